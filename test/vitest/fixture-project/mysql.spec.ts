import { MySqlContainer } from "throwaway/mysql";
import { type MySqlFixtures, mysqlFixtures } from "throwaway/vitest";
import { expect, test } from "vitest";
import { RUN_LABEL, runId, SCOPE_LABEL } from "./labels.js";
import { report } from "./report.js";

// One MySQL for the file's worker, seeded once; every test that names `mysql` finds the seeded state again.
const it = test.extend<MySqlFixtures>(
  mysqlFixtures({
    container: () => new MySqlContainer("mysql:5.7").withLabels({ [RUN_LABEL]: runId(), [SCOPE_LABEL]: "mysql" }),
    seed: async (mysql) => {
      await mysql.executeQuery("CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100) NOT NULL)");
      await mysql.executeQuery("INSERT INTO notes (body) VALUES ('seeded')");
    },
  }),
);

const notes = async (mysql: MySqlFixtures["mysql"]) =>
  (await mysql.executeQuery<{ id: number; body: string }>("SELECT id, body FROM notes ORDER BY id")).map((r) => `${r.id}:${r.body}`);

it("a test changes rows and the schema", async ({ mysql }) => {
  expect(await notes(mysql)).toEqual(["1:seeded"]);
  await mysql.executeQuery("INSERT INTO notes (body) VALUES ('first'), ('second')");
  await mysql.executeQuery("DELETE FROM notes WHERE body = 'seeded'");
  await mysql.executeQuery("CREATE TABLE scratch (x INT)");
  expect(await notes(mysql)).toEqual(["2:first", "3:second"]);
  report({ kind: "mysql", test: "changes", container: mysql.getId() });
});

it("the next test sees the seeded database again, counters included", async ({ mysql }) => {
  expect(await notes(mysql)).toEqual(["1:seeded"]);
  expect(await mysql.executeQuery("SHOW TABLES LIKE 'scratch'")).toEqual([]);
  await mysql.executeQuery("INSERT INTO notes (body) VALUES ('again')");
  expect(await notes(mysql)).toEqual(["1:seeded", "2:again"]);
  report({ kind: "mysql", test: "clean", container: mysql.getId() });
});

it.concurrent.for(["one", "two"])("concurrent tests take turns with the database (%s)", async (name, { mysql }) => {
  expect(await notes(mysql)).toEqual(["1:seeded"]);
  await mysql.executeQuery("INSERT INTO notes (body) VALUES (?)", [name]);
  // Yield while holding the database: a second test inside it now would see this row.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await notes(mysql)).toEqual(["1:seeded", `2:${name}`]);
  report({ kind: "mysql", test: `concurrent ${name}`, container: mysql.getId() });
});
