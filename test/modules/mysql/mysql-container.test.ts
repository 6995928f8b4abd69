// MySqlContainer against the real engine and the mysql:5.7 stand-in: the default start, each option observed from
// inside MySQL, wrong passwords, scripts, connections closed with the container, and `await using` cleanup.
// Three containers in all (each start costs ~1-3 s on two shared cores): one default, one with every option, one
// with root and an empty password.

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Connection, Pool } from "mysql2/promise";
import { ContainerExitedError, InvalidOptionError } from "throwaway";
import { MySqlConnectionError, MySqlContainer, MySqlQueryError, type StartedMySqlContainer } from "throwaway/mysql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const IMAGE = "mysql:5.7";

function containerExists(id: string): boolean {
  return execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${id}`], { encoding: "utf8" }).trim() !== "";
}

describe("MySqlContainer with defaults", () => {
  let mysql: StartedMySqlContainer;

  beforeAll(async () => {
    mysql = await new MySqlContainer().start();
  });
  afterAll(async () => {
    await mysql?.stop();
  });

  it("starts mysql:5.7 with database, user and passwords `test`, ready for queries", async () => {
    expect(mysql.getImage()).toBe(IMAGE);
    expect([mysql.getDatabase(), mysql.getUsername(), mysql.getUserPassword(), mysql.getRootPassword()]).toEqual([
      "test",
      "test",
      "test",
      "test",
    ]);
    expect(mysql.getPort()).toBe(mysql.getMappedPort(3306));
    const rows = await mysql.executeQuery<{ user: string; db: string; one: number }>(
      "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user, DATABASE() AS db, 1 AS one",
    );
    expect(rows).toEqual([{ user: "test", db: "test", one: 1 }]);
    const root = await mysql.executeQuery("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user", [], { root: true });
    expect(root).toEqual([{ user: "root" }]);
  });

  it("gives connection options and a URI that mysql2 accepts", async () => {
    const host = mysql.getHost();
    const port = mysql.getPort();
    expect(mysql.getConnectionOptions()).toEqual({ host, port, user: "test", password: "test", database: "test" });
    expect(mysql.getConnectionOptions({ root: true })).toEqual({ host, port, user: "root", password: "test", database: "test" });
    expect(mysql.getConnectionUri()).toBe(`mysql://test:test@${host}:${port}/test`);
    expect(mysql.getConnectionUri({ root: true })).toBe(`mysql://root:test@${host}:${port}/test`);
    const { createConnection } = await import("mysql2/promise");
    const connection = await createConnection(mysql.getConnectionUri());
    try {
      const [rows] = await connection.query("SELECT DATABASE() AS db");
      expect(rows).toEqual([{ db: "test" }]);
    } finally {
      await connection.end();
    }
  });

  it("executeQuery passes values as parameters, never into the SQL text", async () => {
    await mysql.executeQuery("CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100))");
    const hostile = "Robert'); DROP TABLE people; --";
    expect(await mysql.executeQuery("INSERT INTO people (name) VALUES (?), (?)", [hostile, "Ann"])).toEqual([]);
    expect(await mysql.executeQuery("SELECT name FROM people WHERE name IN (?) ORDER BY id", [[hostile, "Ann"]])).toEqual([
      { name: hostile },
      { name: "Ann" },
    ]);
    expect(await mysql.executeQuery("SELECT id FROM people ORDER BY id LIMIT ?", [1])).toEqual([{ id: 1 }]);
  });

  it("executeQuery failures name the server's error and keep the statement", async () => {
    const error = await mysql.executeQuery("SELECT * FROM no_such_table").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MySqlQueryError);
    expect((error as MySqlQueryError).shortMessage).toBe("executeQuery failed: ER_NO_SUCH_TABLE: Table 'test.no_such_table' doesn't exist");
    expect(error).toMatchObject({ mysqlCode: "ER_NO_SUCH_TABLE", errno: 1146, sqlState: "42S02", sql: "SELECT * FROM no_such_table" });
    expect((await mysql.executeQuery("SELECT 1 AS ok"))[0]).toEqual({ ok: 1 }); // the connection is still usable
  });

  it("a wrong password fails with a typed error naming user, host, port and database, not the password", async () => {
    const error = await mysql.createConnection({ password: "not-the-password" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MySqlConnectionError);
    const e = error as MySqlConnectionError;
    expect(e.shortMessage).toBe(
      `Connecting to MySQL as "test" at ${mysql.getHost()}:${mysql.getPort()} (database "test") failed: access denied (ER_ACCESS_DENIED_ERROR): wrong password, or no such user for this host`,
    );
    expect(e).toMatchObject({ user: "test", host: mysql.getHost(), port: mysql.getPort(), database: "test", errno: 1045 });
    expect(e.message).toMatch(/^The server said: Access denied for user 'test'@'[^']+' \(using password: YES\)$/m);
    expect(`${e.message} ${JSON.stringify(e)}`).not.toContain("not-the-password");
  });

  it("executeScript runs a file statement by statement, DELIMITER included, and names the failing line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "throwaway-mysql-script-"));
    const script = join(dir, "seed.sql");
    writeFileSync(
      script,
      [
        "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100));",
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50));",
        "DELIMITER $$",
        "CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW",
        "BEGIN",
        "  INSERT INTO audit (what) VALUES (CONCAT('added ', NEW.name));",
        "END$$",
        "DELIMITER ;",
        "INSERT INTO items VALUES (1, 'semi;colon'), (2, 'two');",
      ].join("\n"),
    );
    expect(await mysql.executeScript(script)).toEqual({ statements: 4 });
    expect(await mysql.executeQuery("SELECT what FROM audit ORDER BY id")).toEqual([{ what: "added semi;colon" }, { what: "added two" }]);

    const gz = join(dir, "more.sql.gz");
    writeFileSync(gz, gzipSync("INSERT INTO items VALUES (3, 'three');\nUSE information_schema;\n"));
    expect(await mysql.executeScript(gz)).toEqual({ statements: 2 });
    // The script's USE stayed with the script's own connection.
    expect(await mysql.executeQuery("SELECT COUNT(*) AS n FROM items")).toEqual([{ n: 3 }]);

    const broken = join(dir, "broken.sql");
    writeFileSync(broken, "INSERT INTO items VALUES (4, 'four');\n\nINSERT INTO nowhere VALUES (1);\n");
    const error = (await mysql.executeScript(broken).catch((e: unknown) => e)) as MySqlQueryError;
    expect(error).toBeInstanceOf(MySqlQueryError);
    expect(error.shortMessage).toBe(
      `executeScript(${JSON.stringify(broken)}) failed at line 3 (statement 2): ER_NO_SUCH_TABLE: Table 'test.nowhere' doesn't exist`,
    );
    expect(error.sql).toBe("INSERT INTO nowhere VALUES (1)");
    const missing = (await mysql.executeScript(join(dir, "missing.sql")).catch((e: unknown) => e)) as InvalidOptionError;
    expect(missing).toBeInstanceOf(InvalidOptionError);
    expect(missing.shortMessage).toMatch(/^Expected `executeScript\(path\)` to be the path of a readable \.sql file, got .*: ENOENT/);
  });
});

describe("MySqlContainer options, observed from inside MySQL", () => {
  let mysql: StartedMySqlContainer;
  const dir = mkdtempSync(join(tmpdir(), "throwaway-mysql-init-"));

  beforeAll(async () => {
    writeFileSync(join(dir, "01-schema.sql"), "CREATE TABLE runs (id INT AUTO_INCREMENT PRIMARY KEY, source VARCHAR(20));\n");
    const folder = mkdtempSync(join(dir, "folder-"));
    writeFileSync(join(folder, "a.sql"), "INSERT INTO runs (source) VALUES ('folder-a');\n");
    writeFileSync(join(folder, "b.sql"), "INSERT INTO runs (source) VALUES ('folder-b');\n");
    mysql = await new MySqlContainer(IMAGE)
      .withDatabase("shop")
      .withUsername("clerk")
      .withUserPassword("p@ss:w/rd")
      .withRootPassword("r00t")
      .withInitScripts(join(dir, "01-schema.sql"), folder, { sql: "INSERT INTO runs (source) VALUES ('sql-string');", name: "last" })
      .withConfig("[mysqld]\nmax_connections = 42\nwait_timeout = 1234\n")
      .withServerArgs("--max-connections=77", "--character-set-server=latin1")
      .start();
  });
  afterAll(async () => {
    await mysql?.stop();
  });

  it("creates the database and a user who can log in with its password", async () => {
    expect(await mysql.executeQuery("SELECT CURRENT_USER() AS who, DATABASE() AS db")).toEqual([{ who: "clerk@%", db: "shop" }]);
    const databases = await mysql.executeQuery<{ Database: string }>("SHOW DATABASES");
    expect(databases.map((d) => d.Database)).toContain("shop");
    // The URI encodes the password's special characters, and works.
    expect(mysql.getConnectionUri()).toBe(`mysql://clerk:p%40ss%3Aw%2Frd@${mysql.getHost()}:${mysql.getPort()}/shop`);
    const { createConnection } = await import("mysql2/promise");
    const viaUri = await createConnection(mysql.getConnectionUri());
    await viaUri.end();
  });

  it("sets root's password: root logs in with it, and not without it", async () => {
    expect(mysql.getRootPassword()).toBe("r00t");
    expect(await mysql.executeQuery("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user", [], { root: true })).toEqual([
      { user: "root" },
    ]);
    const error = await mysql.createConnection({ root: true, password: "" }).catch((e: unknown) => e);
    expect((error as MySqlConnectionError).shortMessage).toBe(
      `Connecting to MySQL as "root" at ${mysql.getHost()}:${mysql.getPort()} (database "shop") failed: access denied (ER_ACCESS_DENIED_ERROR): wrong password, or no such user for this host`,
    );
  });

  it("runs init scripts (a file, a folder, an SQL string) in order, once: not again after restart()", async () => {
    const expected = [
      { id: 1, source: "folder-a" },
      { id: 2, source: "folder-b" },
      { id: 3, source: "sql-string" },
    ];
    expect(await mysql.executeQuery("SELECT id, source FROM runs ORDER BY id")).toEqual(expected);
    await mysql.restart();
    expect(await mysql.executeQuery("SELECT id, source FROM runs ORDER BY id")).toEqual(expected);
  });

  it("applies withConfig and withServerArgs (the command line wins over the file)", async () => {
    const rows = await mysql.executeQuery<{ Variable_name: string; Value: string }>(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'wait_timeout', 'character_set_server')",
    );
    expect(Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]))).toEqual({
      character_set_server: "latin1",
      max_connections: "77",
      wait_timeout: "1234",
    });
  });

  it("closes the connections and pools it handed out when the container stops", async () => {
    const connection: Connection = await mysql.createConnection();
    const pool: Pool = mysql.createPool({ connectionLimit: 2 });
    await pool.query("SELECT 1");
    const rootConnection = await mysql.createConnection({ root: true, database: "mysql" });
    expect(await rootConnection.query("SELECT DATABASE() AS db").then(([rows]) => rows)).toEqual([{ db: "mysql" }]);
    const closedByUser = await mysql.createConnection();
    await closedByUser.end();

    const id = mysql.getId();
    await mysql.stop();
    expect(containerExists(id)).toBe(false);
    const errors = await Promise.all([
      connection.query("SELECT 1").catch((e: unknown) => e),
      pool.query("SELECT 1").catch((e: unknown) => e),
      rootConnection.query("SELECT 1").catch((e: unknown) => e),
    ]);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      "Can't add new command when connection is in closed state",
      "Pool is closed.",
      "Can't add new command when connection is in closed state",
    ]);
  });
});

describe("MySqlContainer with root as the user and an empty password (the seed's docker run)", () => {
  it("logs in as root without a password, and `await using` removes the container", async () => {
    let id: string;
    {
      await using mysql = await new MySqlContainer().withUsername("root").withRootPassword("").start();
      id = mysql.getId();
      expect([mysql.getUsername(), mysql.getUserPassword(), mysql.getRootPassword()]).toEqual(["root", "", ""]);
      expect(mysql.getConnectionUri()).toBe(`mysql://root@${mysql.getHost()}:${mysql.getPort()}/test`);
      expect(await mysql.executeQuery("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user, DATABASE() AS db")).toEqual([
        { user: "root", db: "test" },
      ]);
      // No other user was created (the image refuses MYSQL_USER=root; we do not set it).
      const users = await mysql.executeQuery<{ user: string }>(
        "SELECT DISTINCT User AS user FROM mysql.user WHERE User NOT IN ('root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema') ORDER BY 1",
      );
      expect(users).toEqual([]);
      expect((await mysql.exec(["printenv", "MYSQL_ALLOW_EMPTY_PASSWORD"])).stdout).toBe("yes\n");
      expect((await mysql.exec(["sh", "-c", "printenv MYSQL_USER || echo unset"])).stdout).toBe("unset\n");
      expect(containerExists(id)).toBe(true);
    }
    expect(containerExists(id)).toBe(false);
  });
});

describe("MySqlContainer that cannot start", () => {
  it("fails at once with the server's own complaint, and removes the container", async () => {
    const error = await new MySqlContainer()
      .withServerArgs("--no-such-option=1")
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    const e = error as ContainerExitedError;
    // The wording before "exited" is the core's; the strategy's description is this module's.
    expect(e.shortMessage).toMatch(
      / exited with code 1 after \d+ ms while waiting for mysql "SELECT 1" as "test" on 3306\/tcp \(database "test"\)$/,
    );
    expect(e.message).toContain("unknown variable 'no-such-option=1'");
    expect(containerExists(e.containerId!)).toBe(false);
  });
});

describe("MySqlContainer builders", () => {
  it("one builder started twice at once gives two MySQLs with the same settings, and the builder is unchanged", async () => {
    const builder = new MySqlContainer(IMAGE)
      .withDatabase("twice")
      .withInitScripts({ sql: "CREATE TABLE seeded (id INT);", name: "seed" })
      .withConfig("[mysqld]\nmax_connections = 33\n");
    const results = await Promise.allSettled([builder.start(), builder.start()]);
    const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(started[0]!.getId()).not.toBe(started[1]!.getId());
      for (const mysql of started) {
        expect(Object.keys(mysql.getInspectResult().NetworkSettings.Ports ?? {})).toEqual(["3306/tcp"]);
        const rows = await mysql.executeQuery<{ db: string; max: number; tables: number }>(
          "SELECT DATABASE() AS db, @@max_connections AS max, (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'twice') AS tables",
        );
        expect(rows).toEqual([{ db: "twice", max: 33, tables: 1 }]);
      }
    } finally {
      await Promise.all(started.map((mysql) => mysql.stop()));
    }
    // Nothing of those starts stayed on the builder: a changed password is the one the next start waits with.
    await using third = await builder.withUserPassword("changed").start();
    expect(third.getUserPassword()).toBe("changed");
    expect(await third.executeQuery("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});
