// How fast snapshot()/restore() are on the issue's reference database (20 tables, 500 rows each, a foreign-key
// chain), against a fresh container start and a dump-and-reload. Prints a table; asserts only correctness (the
// restored database equals the snapshot), never time. Run:
//   npx vitest run --config test/modules/mysql/vitest.measure.config.ts

import { MySqlContainer, type StartedMySqlContainer } from "throwaway/mysql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TABLES = 20;
const ROWS = 500;
const SAMPLES = Number(process.env.MEASURE_SAMPLES ?? 15);
const STARTS = Number(process.env.MEASURE_STARTS ?? 5);

interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

async function sample(n: number, prepare: () => Promise<unknown>, run: () => Promise<unknown>): Promise<Stats> {
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    await prepare();
    const t0 = performance.now();
    await run();
    values.push(performance.now() - t0);
  }
  return stats(values);
}

const results: Record<string, Stats> = {};
const fmt = (s: Stats) => `${s.median.toFixed(1).padStart(8)} ms  (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`;

describe(`snapshot/restore on ${TABLES} tables x ${ROWS} rows`, () => {
  let mysql: StartedMySqlContainer;
  const table = (i: number) => `t${String(i).padStart(2, "0")}`;

  /** A fingerprint of the whole database: every table's rows and counter. */
  async function fingerprint(): Promise<string> {
    const rows = await mysql.executeQuery<{ TABLE_NAME: string; AUTO_INCREMENT: number }>(
      "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test' ORDER BY TABLE_NAME",
      [],
      { root: true },
    );
    const sums = await mysql.executeQuery(`CHECKSUM TABLE ${rows.map((r) => `test.${r.TABLE_NAME}`).join(", ")}`, [], { root: true });
    return JSON.stringify([rows, sums]);
  }

  beforeAll(async () => {
    const t0 = performance.now();
    mysql = await new MySqlContainer().start();
    await mysql.executeQuery("SELECT 1");
    console.log(`(first start, image warm: ${(performance.now() - t0).toFixed(0)} ms)`);
    const connection = await mysql.createConnection();
    for (let i = 0; i < TABLES; i++) {
      const parent = i > 0 ? `, parent_id INT NULL, FOREIGN KEY (parent_id) REFERENCES ${table(i - 1)}(id) ON DELETE CASCADE` : "";
      await connection.query(
        `CREATE TABLE ${table(i)} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, n INT, created DATETIME NOT NULL, KEY (name)${parent})`,
      );
      const rows = Array.from({ length: ROWS }, (_, r) => [
        `name-${i}-${r}`,
        r,
        new Date(Date.UTC(2026, 0, 1, 0, 0, r)),
        ...(i > 0 ? [r + 1] : []),
      ]);
      await connection.query(`INSERT INTO ${table(i)} (name, n, created${i > 0 ? ", parent_id" : ""}) VALUES ?`, [rows]);
    }
    await connection.end();
  });

  afterAll(async () => {
    await mysql?.stop();
    console.log(`\n${"".padEnd(60, "=")}\n${TABLES} tables x ${ROWS} rows (${TABLES * ROWS} rows), mysql:5.7 stand-in, medians:`);
    for (const [name, s] of Object.entries(results)) console.log(`${name.padEnd(58)} ${fmt(s)}`);
    const start = results["fresh container: start() to first SELECT 1"];
    for (const [name, s] of Object.entries(results)) {
      if (name.startsWith("restore") && start)
        console.log(`${`fresh start / ${name}`.padEnd(58)} ${(start.median / s.median).toFixed(0).padStart(8)}x`);
    }
  });

  it("measures", async () => {
    results["snapshot()"] = await sample(
      5,
      async () => {},
      () => mysql.snapshot(),
    );
    const expected = await fingerprint();

    const check = async () => expect(await fingerprint()).toEqual(expected);
    results["restore(), nothing changed"] = await sample(
      SAMPLES,
      async () => {},
      () => mysql.restore(),
    );
    results["restore(), a test's writes (insert, update 5, delete: 3 tables)"] = await sample(
      SAMPLES,
      async () => {
        await mysql.executeQuery(`INSERT INTO ${table(3)} (name, n, created) VALUES ('new', 1, NOW())`);
        await mysql.executeQuery(`UPDATE ${table(7)} SET n = n + 1 WHERE id <= 5`);
        await mysql.executeQuery(`DELETE FROM ${table(TABLES - 1)} WHERE id = 10`);
      },
      () => mysql.restore(),
    );
    await check();
    results["restore(), one row changed in every table"] = await sample(
      SAMPLES,
      async () => {
        for (let i = 0; i < TABLES; i++) await mysql.executeQuery(`UPDATE ${table(i)} SET n = -1 WHERE id = 7`);
      },
      () => mysql.restore(),
    );
    await check();
    // MariaDB and MySQL stop cascades after 15 levels: start the chain at t10 (9 levels below).
    results["restore(), a cascade: delete in t10, cascading to t11-t19"] = await sample(
      SAMPLES,
      async () => {
        await mysql.executeQuery(`DELETE FROM ${table(10)} WHERE id <= 50`);
      },
      () => mysql.restore(),
    );
    await check();
    results["restore(), DDL: a table dropped, one created"] = await sample(
      SAMPLES,
      async () => {
        await mysql.executeQuery(`DROP TABLE ${table(TABLES - 1)}`);
        await mysql.executeQuery("CREATE TABLE scratch (id INT PRIMARY KEY)");
      },
      () => mysql.restore(),
    );
    await check();
    results["restore() + first SELECT 1, a test's writes"] = await sample(
      SAMPLES,
      () => mysql.executeQuery(`UPDATE ${table(5)} SET n = n + 1`),
      async () => {
        await mysql.restore();
        await mysql.executeQuery("SELECT 1");
      },
    );
    await check();

    // The obvious alternative: dump the database with the image's own client, reload it (through one exec each).
    await mysql.exec(["sh", "-c", "mysqldump -uroot -ptest --single-transaction test > /tmp/dump.sql"]);
    results["dump reload (mysql client in the container, one exec)"] = await sample(
      5,
      () => mysql.executeQuery(`UPDATE ${table(5)} SET n = n + 1`),
      async () => {
        const result = await mysql.exec(["sh", "-c", "mysql -uroot -ptest test < /tmp/dump.sql"]);
        expect(result.exitCode).toBe(0);
      },
    );
    await mysql.restore(); // the reload does not reset counters the way a snapshot does; start clean again
    await check();

    const starts: number[] = [];
    const stops: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      const fresh = await new MySqlContainer().start();
      await fresh.executeQuery("SELECT 1");
      starts.push(performance.now() - t0);
      const t1 = performance.now();
      await fresh.stop();
      stops.push(performance.now() - t1);
    }
    results["fresh container: start() to first SELECT 1"] = stats(starts);
    results["fresh container: stop() alone"] = stats(stops);
  });
});
