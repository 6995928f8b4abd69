// snapshot()/restore() against the real mysql:5.7 stand-in, one container for the whole file (each test starts from
// the restored snapshot). After every restore the database must equal the seeded one exactly: every table's
// definition (with its AUTO_INCREMENT counter), every row, triggers and views.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidOptionError } from "throwaway";
import { MySqlContainer, MySqlQueryError, type StartedMySqlContainer } from "throwaway/mysql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const SEED = `
SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
CREATE TABLE authors (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, born DATE NULL);
CREATE TABLE books (
  id INT AUTO_INCREMENT PRIMARY KEY,
  author_id INT NOT NULL,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(8,2),
  shout VARCHAR(200) AS (UPPER(title)) VIRTUAL,
  FOREIGN KEY (author_id) REFERENCES authors(id) ON DELETE CASCADE
);
CREATE TABLE reviews (
  id INT AUTO_INCREMENT PRIMARY KEY,
  book_id INT NOT NULL,
  stars TINYINT NOT NULL,
  FOREIGN KEY (book_id) REFERENCES books(id) ON DELETE CASCADE
);
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, event VARCHAR(100) NOT NULL);
DELIMITER //
CREATE TRIGGER books_ai AFTER INSERT ON books FOR EACH ROW
BEGIN
  INSERT INTO audit (event) VALUES (CONCAT('book ', NEW.id, ' added'));
END//
DELIMITER ;
CREATE TABLE settings (name VARCHAR(50) PRIMARY KEY, value TEXT, data BLOB, kind ENUM('a', 'b'), at DATETIME(6));
CREATE TABLE counters (id INT AUTO_INCREMENT PRIMARY KEY, n INT);
CREATE TABLE notes (body VARCHAR(50));
CREATE VIEW book_titles AS SELECT b.id, a.name AS author, b.title FROM books b JOIN authors a ON a.id = b.author_id;

INSERT INTO authors (name, born) VALUES ('Ann', '1970-01-02'), ('Bob', NULL), ('Cy', '1990-12-31');
INSERT INTO books (author_id, title, price) VALUES (1, 'A1', 10.5), (1, 'A2', 11), (2, 'B1', NULL), (2, 'B2', 3), (3, 'C1', 99.99), (3, 'C2', 1);
INSERT INTO reviews (book_id, stars) VALUES (1, 5), (1, 4), (2, 3), (3, 5), (4, 1), (5, 2), (6, 4), (6, 5);
INSERT INTO settings VALUES ('theme', 'dark', X'00FF10', 'a', '2026-01-02 03:04:05.123456'), ('empty', NULL, NULL, NULL, NULL);
-- A 0 id (kept by NO_AUTO_VALUE_ON_ZERO) and a counter ahead of the rows: both must survive restores.
INSERT INTO notes VALUES ('no key'), ('no key'), (NULL);
INSERT INTO counters (id, n) VALUES (0, 0), (1, 10), (2, 20), (3, 30), (4, 40), (5, 50);
DELETE FROM counters WHERE id IN (4, 5);
`;

interface Dump {
  tables: Record<string, { create: string; rows: unknown[] }>;
  views: Record<string, string>;
  triggers: unknown[];
}

describe("snapshot() and restore()", () => {
  let mysql: StartedMySqlContainer;
  let seeded: Dump;

  /** The whole database as root sees it. */
  async function dump(): Promise<Dump> {
    const root = { root: true };
    // SHOW CREATE VIEW qualifies names outside the session's database; a session that ran DROP DATABASE has none.
    await mysql.executeQuery("USE test", [], root);
    const objects = await mysql.executeQuery<{ name: string; type: string }>(
      "SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test' ORDER BY TABLE_NAME",
      [],
      root,
    );
    const result: Dump = { tables: {}, views: {}, triggers: [] };
    for (const { name, type } of objects) {
      if (type === "VIEW") {
        const [view] = await mysql.executeQuery<{ "Create View": string }>("SHOW CREATE VIEW ??.??", ["test", name], root);
        result.views[name] = view!["Create View"];
      } else {
        const [table] = await mysql.executeQuery<{ "Create Table": string }>("SHOW CREATE TABLE ??.??", ["test", name], root);
        const rows = await mysql.executeQuery("SELECT * FROM ??.?? ORDER BY 1", ["test", name], root);
        result.tables[name] = { create: table!["Create Table"], rows };
      }
    }
    result.triggers = await mysql.executeQuery(
      "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT, SQL_MODE, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'test' ORDER BY 1",
      [],
      root,
    );
    return result;
  }

  beforeAll(async () => {
    mysql = await new MySqlContainer().start();
    const dir = mkdtempSync(join(tmpdir(), "throwaway-mysql-snapshot-"));
    writeFileSync(join(dir, "seed.sql"), SEED);
    await mysql.executeScript(join(dir, "seed.sql"));
    seeded = await dump();
    expect(Object.keys(seeded.tables)).toEqual(["audit", "authors", "books", "counters", "notes", "reviews", "settings"]);
    expect(seeded.tables.counters!.create).toMatch(/AUTO_INCREMENT=6 /);
    expect(await mysql.snapshot()).toMatchObject({ name: "default", tables: 7, views: 1, triggers: 1 });
  });
  afterAll(async () => {
    await mysql?.stop();
  });
  beforeEach(async () => {
    await mysql.restore();
  });

  it("puts back rows added, changed and deleted, and touches only those tables", async () => {
    await mysql.executeQuery("INSERT INTO authors (name) VALUES ('Dee')");
    await mysql.executeQuery("UPDATE books SET price = price * 2 WHERE author_id = 2");
    await mysql.executeQuery("DELETE FROM reviews WHERE stars < 3");
    await mysql.executeQuery("UPDATE settings SET data = X'01', at = NOW(6) WHERE name = 'theme'");
    expect(await dump()).not.toEqual(seeded);
    const result = await mysql.restore();
    expect(result).toMatchObject({ name: "default", mode: "fast", restored: ["authors", "books", "reviews", "settings"], dropped: [] });
    expect(await dump()).toEqual(seeded);
  });

  it("sees changes that text comparison would miss: case only, trailing spaces, in keys too; and tables without keys", async () => {
    await mysql.executeQuery("UPDATE settings SET value = 'DARK' WHERE name = 'theme'"); // equal under the _ci collation
    await mysql.executeQuery("UPDATE settings SET name = 'EMPTY' WHERE name = 'empty'"); // the primary key, case only
    await mysql.executeQuery("UPDATE authors SET name = 'Bob ' WHERE name = 'Bob'"); // equal under PAD SPACE
    await mysql.executeQuery("DELETE FROM notes WHERE body IS NULL");
    await mysql.executeQuery("INSERT INTO notes VALUES ('no key')"); // same row count, same rows but one
    expect(await mysql.restore()).toMatchObject({ mode: "fast", restored: ["authors", "notes", "settings"] });
    expect(await dump()).toEqual(seeded);
  });

  it("puts auto-increment counters back, even when the rows are the same again", async () => {
    await mysql.executeQuery("INSERT INTO counters (n) VALUES (60)");
    await mysql.executeQuery("DELETE FROM counters WHERE n = 60");
    const [rows] = [await mysql.executeQuery("SELECT COUNT(*) AS n FROM counters")];
    expect(rows).toEqual([{ n: 4 }]);
    expect(await mysql.restore()).toMatchObject({ mode: "fast", restored: ["counters"] });
    expect(await dump()).toEqual(seeded);
    await mysql.executeQuery("INSERT INTO counters (n) VALUES (60)");
    expect(await mysql.executeQuery("SELECT id FROM counters WHERE n = 60")).toEqual([{ id: 6 }]);
  });

  it("sees foreign-key cascades, which fire no triggers", async () => {
    await mysql.executeQuery("DELETE FROM authors WHERE name = 'Ann'");
    expect(await mysql.executeQuery("SELECT COUNT(*) AS n FROM reviews")).toEqual([{ n: 5 }]);
    expect(await mysql.restore()).toMatchObject({ mode: "fast", restored: ["authors", "books", "reviews"] });
    expect(await dump()).toEqual(seeded);
  });

  it("refills a table without firing its triggers", async () => {
    const audit = () => mysql.executeQuery("SELECT id, event FROM audit ORDER BY id DESC LIMIT 1");
    expect(await audit()).toEqual([{ id: 6, event: "book 6 added" }]); // the seed's inserts fired it six times
    await mysql.executeQuery("INSERT INTO books (author_id, title) VALUES (3, 'C3')");
    expect(await audit()).toEqual([{ id: 7, event: "book 7 added" }]);
    expect(await mysql.restore()).toMatchObject({ mode: "fast", restored: ["audit", "books"] });
    expect(await dump()).toEqual(seeded); // six audit rows again: re-inserting the books fired nothing
    await mysql.executeQuery("INSERT INTO books (author_id, title) VALUES (3, 'C3')");
    expect(await audit()).toEqual([{ id: 7, event: "book 7 added" }]); // and the trigger is back
  });

  it("recreates dropped tables with their foreign keys, triggers and rows, and drops tables and views created since", async () => {
    await mysql.executeQuery("DROP VIEW book_titles");
    await mysql.executeQuery("DROP TABLE reviews");
    await mysql.executeQuery("DROP TABLE books");
    await mysql.executeQuery("CREATE TABLE scratch (id INT PRIMARY KEY)");
    await mysql.executeQuery("CREATE VIEW scratch_view AS SELECT id FROM scratch");
    expect(await mysql.restore()).toMatchObject({ mode: "full", restored: ["books", "reviews"], dropped: ["scratch", "scratch_view"] });
    expect(await dump()).toEqual(seeded);
    // The recreated foreign keys cascade again.
    await mysql.executeQuery("DELETE FROM authors WHERE name = 'Cy'");
    expect(await mysql.executeQuery("SELECT COUNT(*) AS n FROM reviews")).toEqual([{ n: 5 }]);
  });

  it("puts back altered and truncated tables, and replaced triggers", async () => {
    await mysql.executeQuery("ALTER TABLE settings ADD COLUMN extra INT");
    await mysql.executeQuery("TRUNCATE TABLE counters");
    await mysql.executeQuery("DROP TRIGGER books_ai");
    await mysql.executeQuery("CREATE TRIGGER books_ai AFTER INSERT ON books FOR EACH ROW INSERT INTO audit (event) VALUES ('other')");
    const result = await mysql.restore();
    expect(result).toMatchObject({ mode: "full", restored: ["counters", "settings"], dropped: [] });
    expect(await dump()).toEqual(seeded);
  });

  it("restores a database dropped altogether, with the user's access intact", async () => {
    await mysql.executeQuery("DROP DATABASE test", [], { root: true });
    expect(await mysql.restore()).toMatchObject({
      mode: "full",
      restored: ["audit", "authors", "books", "counters", "notes", "reviews", "settings"],
    });
    expect(await dump()).toEqual(seeded);
    expect(await mysql.executeQuery("SELECT COUNT(*) AS n FROM book_titles")).toEqual([{ n: 6 }]);
  });

  it("changes nothing when nothing changed, however often it runs", async () => {
    const first = await mysql.restore();
    const second = await mysql.restore();
    for (const result of [first, second]) expect(result).toMatchObject({ mode: "fast", restored: [], dropped: [] });
    expect(await dump()).toEqual(seeded);
  });

  it("keeps named snapshots apart", async () => {
    await mysql.executeQuery("INSERT INTO authors (name) VALUES ('Zed')");
    await mysql.executeQuery("DELETE FROM counters WHERE id = 0");
    expect(await mysql.snapshot("with_zed")).toMatchObject({ name: "with_zed", tables: 7 });
    const withZed = await dump();
    expect(await mysql.restore("default")).toMatchObject({ mode: "full", restored: ["authors", "counters"] });
    expect(await dump()).toEqual(seeded);
    await mysql.restore("with_zed");
    expect(await dump()).toEqual(withZed);
    await mysql.executeQuery("DELETE FROM authors"); // cascades everywhere
    expect(await mysql.restore("with_zed")).toMatchObject({ mode: "fast", restored: ["authors", "books", "reviews"] });
    expect(await dump()).toEqual(withZed);
    await mysql.restore();
    expect(await dump()).toEqual(seeded);
  });

  it("works after a restart (full check: the server's counters started over)", async () => {
    await mysql.restart();
    await mysql.executeQuery("UPDATE authors SET born = NULL");
    expect(await mysql.restore()).toMatchObject({ mode: "full", restored: ["authors"] });
    expect(await dump()).toEqual(seeded);
  });

  it("ignores what is not committed, fails clearly when another connection holds a lock, and works once it is released", async () => {
    const blocker = await mysql.createConnection();
    await blocker.query("BEGIN");
    await blocker.query("UPDATE authors SET name = 'Ann2' WHERE name = 'Ann'");
    // Nothing is committed yet: there is nothing to put back, and nothing waits for the blocker's row lock.
    expect(await mysql.restore()).toMatchObject({ restored: [] });
    await mysql.executeQuery("INSERT INTO counters (n) VALUES (70)");
    await blocker.query("SELECT * FROM counters FOR UPDATE");
    process.env.THROWAWAY_MYSQL_LOCK_WAIT = "1";
    try {
      const error = (await mysql.restore().catch((e: unknown) => e)) as MySqlQueryError;
      expect(error).toBeInstanceOf(MySqlQueryError);
      expect(error.shortMessage).toBe(
        'restore("default") on database "test" failed: waited 1 s for a lock another connection holds (an open transaction?): commit, roll back or close it first',
      );
      expect(error.mysqlCode).toBe("ER_LOCK_WAIT_TIMEOUT");
    } finally {
      delete process.env.THROWAWAY_MYSQL_LOCK_WAIT;
      await blocker.query("ROLLBACK");
      await blocker.end();
    }
    expect(await mysql.restore()).toMatchObject({ mode: "full", restored: ["counters"] }); // the failed restore changed nothing
    expect(await dump()).toEqual(seeded);
  });

  it("refuses unknown and malformed names", async () => {
    const unknown = (await mysql.restore("nope").catch((e: unknown) => e)) as InvalidOptionError;
    expect(unknown).toBeInstanceOf(InvalidOptionError);
    expect(unknown.shortMessage).toMatch(
      /^Expected `restore\(name\)` to be the name of a snapshot taken with snapshot\(\) \(taken: default(, with_zed)?\), got `"nope"` \(string\)$/,
    );
    const malformed = (await mysql.snapshot("no spaces").catch((e: unknown) => e)) as InvalidOptionError;
    expect(malformed.shortMessage).toBe('Expected `snapshot(name)` to be 1-40 letters, digits or _, got `"no spaces"` (string)');
  });
});
