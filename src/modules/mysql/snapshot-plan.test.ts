// The restore's planning without a server: from what a restore read (tables present, live definitions, checksums),
// what it decides changed and which statements put it back. The server tests (test/modules/mysql/snapshot.test.ts)
// check that those statements restore a real database.
import { describe, expect, it } from "vitest";
import {
  applySteps,
  canRestoreFast,
  fastCandidates,
  isNoop,
  type LiveState,
  type Present,
  planFast,
  planFull,
  refillStatements,
  restoredTables,
  type Snapshot,
  type SyncPoint,
  type TableState,
  type TriggerState,
} from "./snapshot.js";

function table(name: string, extra: Partial<TableState> = {}): TableState {
  const shape = `CREATE TABLE \`${name}\` (\`id\` int NOT NULL, \`v\` text, PRIMARY KEY (\`id\`))`;
  return {
    name,
    createSql: `${shape} AUTO_INCREMENT=5`,
    shape,
    columns: ["id", "v"],
    generated: false,
    key: ["id"],
    textColumns: new Set(["v"]),
    autoIncrement: 5,
    checksum: `sum-${name}`,
    triggers: [],
    ...extra,
  };
}

const trigger = (name: string, on: string, signature = `sig-${name}`): TriggerState => ({
  name,
  table: on,
  createSql: `CREATE TRIGGER ${name} ...`,
  sqlMode: "STRICT_TRANS_TABLES",
  signature,
});

function snapshotOf(tables: TableState[], views: string[] = []): Snapshot {
  return {
    name: "seed",
    schema: "__throwaway_snapshot_seed",
    charset: "utf8mb4",
    collation: "utf8mb4_general_ci",
    tables: new Map(tables.map((t) => [t.name, t])),
    views: new Map(views.map((v) => [v, { name: v, createSql: `CREATE VIEW ${v} AS SELECT 1`, signature: `sig-${v}` }])),
  };
}

/** The live database exactly as the snapshot left it, at second `ut`. */
function presentOf(snapshot: Snapshot, ut: number | null = 100): Present {
  const present: Present = new Map();
  for (const t of snapshot.tables.values()) present.set(t.name, { type: "BASE TABLE", ai: t.autoIncrement, ut });
  for (const v of snapshot.views.keys()) present.set(v, { type: "VIEW", ai: null, ut: null });
  return present;
}

function liveOf(snapshot: Snapshot): LiveState {
  const tables = [...snapshot.tables.values()];
  return {
    databaseExists: true,
    triggers: tables.flatMap((t) => t.triggers.map(({ name, table, signature }) => ({ name, table, signature }))),
    views: new Map([...snapshot.views.values()].map((v) => [v.name, v.signature])),
    shapes: new Map(tables.map((t) => [t.name, t.shape])),
    checksums: new Map(tables.map((t) => [t.name, t.checksum])),
  };
}

const sync = (extra: Partial<SyncPoint> = {}): SyncPoint => ({ snapshot: "seed", second: 100, ddl: 7, flushEpoch: 1000, ...extra });

describe("canRestoreFast", () => {
  const snapshot = snapshotOf([table("a"), table("b")], ["v"]);

  it("holds when no DDL ran, status was not reset and the same tables and views are there", () => {
    expect(canRestoreFast(sync(), sync({ second: 130, flushEpoch: 1001 }), snapshot, presentOf(snapshot))).toBe(true);
  });

  it.each([
    ["another snapshot was last synced", sync({ snapshot: "other" }), sync()],
    ["a DDL statement ran", sync(), sync({ ddl: 8 })],
    ["the server hides its counters", sync({ ddl: undefined }), sync({ ddl: undefined })],
    ["the status was reset (restart, FLUSH STATUS)", sync(), sync({ flushEpoch: 1500 })],
  ])("fails when %s", (_, since, now) => {
    expect(canRestoreFast(since, now, snapshot, presentOf(snapshot))).toBe(false);
  });

  it("fails when a table was added or a table and a view swapped", () => {
    const added = presentOf(snapshot);
    added.set("c", { type: "BASE TABLE", ai: null, ut: 120 });
    expect(canRestoreFast(sync(), sync(), snapshot, added)).toBe(false);
    const swapped = presentOf(snapshot);
    swapped.set("v", { type: "BASE TABLE", ai: null, ut: 120 });
    expect(canRestoreFast(sync(), sync(), snapshot, swapped)).toBe(false);
  });
});

describe("a fast restore", () => {
  it("checks only tables written since the sync second (that second included), of unknown time, or with a moved counter", () => {
    const snapshot = snapshotOf([table("old"), table("same"), table("later"), table("unknown"), table("counter")]);
    const present = presentOf(snapshot, 99);
    present.set("same", { type: "BASE TABLE", ai: 5, ut: 100 });
    present.set("later", { type: "BASE TABLE", ai: 5, ut: 101 });
    present.set("unknown", { type: "BASE TABLE", ai: 5, ut: null });
    present.set("counter", { type: "BASE TABLE", ai: 9, ut: 50 });
    expect(fastCandidates(snapshot, present, 100).map((t) => t.name)).toEqual(["same", "later", "unknown", "counter"]);
  });

  it("refills what differs, resets counters, and leaves equal tables alone", () => {
    const [rows, counter, equal] = [table("rows"), table("counter"), table("equal")];
    const present = presentOf(snapshotOf([rows, counter, equal]));
    present.set("counter", { type: "BASE TABLE", ai: 12, ut: 100 });
    const plan = planFast(
      [rows, counter, equal],
      present,
      new Map([
        ["rows", "changed"],
        ["counter", "sum-counter"],
        ["equal", "sum-equal"],
      ]),
    );
    expect(plan.checked).toEqual(["rows", "counter", "equal"]);
    expect(plan.refill.map((t) => t.name)).toEqual(["rows"]);
    expect([...plan.autoIncrement]).toEqual([["counter", 5]]);
    expect(restoredTables(plan)).toEqual(["counter", "rows"]);
    expect(isNoop(plan)).toBe(false);
  });

  it("is a no-op when every checksum and counter matches", () => {
    const tables = [table("a"), table("b")];
    const plan = planFast(tables, presentOf(snapshotOf(tables)), new Map(tables.map((t) => [t.name, t.checksum])));
    expect(isNoop(plan)).toBe(true);
    expect(restoredTables(plan)).toEqual([]);
  });
});

describe("a full restore's plan", () => {
  it("finds nothing to do when the database equals the snapshot", () => {
    const snapshot = snapshotOf([table("a", { triggers: [trigger("a_ai", "a")] }), table("b")], ["v"]);
    const plan = planFull(snapshot, presentOf(snapshot), liveOf(snapshot));
    expect(plan.checked).toEqual(["a", "b"]);
    expect(isNoop(plan)).toBe(true);
  });

  it("drops what was created since, recreates what was dropped or altered, and recreates a missing database", () => {
    const altered = table("altered");
    const dropped = table("dropped", { triggers: [trigger("dropped_ai", "dropped")] });
    const snapshot = snapshotOf([altered, dropped, table("kept")], ["v"]);
    const present = presentOf(snapshot);
    present.delete("dropped");
    present.set("extra", { type: "BASE TABLE", ai: null, ut: 120 });
    present.set("extra_view", { type: "VIEW", ai: null, ut: null });
    const live = liveOf(snapshot);
    live.databaseExists = false;
    live.shapes.delete("dropped");
    live.shapes.set("altered", "CREATE TABLE `altered` (`id` int NOT NULL, `v` text, `added` int, PRIMARY KEY (`id`))");
    live.triggers = live.triggers.filter((t) => t.table !== "dropped");
    live.triggers.push({ name: "extra_ai", table: "extra", signature: "x" });

    const plan = planFull(snapshot, present, live);
    expect(plan.createDatabase).toBe(true);
    expect(plan.dropped.sort()).toEqual(["extra", "extra_view"]);
    expect(plan.dropViews).toEqual(["extra_view"]);
    expect(plan.dropTables.sort()).toEqual(["altered", "extra"]);
    expect(plan.recreate.map((t) => t.name)).toEqual(["altered", "dropped"]);
    expect(plan.createTriggers.map((t) => t.name)).toEqual(["dropped_ai"]);
    // The extra table's trigger goes with the table: no separate DROP TRIGGER.
    expect(plan.dropTriggers).toEqual([]);
    expect(plan.checked).toEqual(["kept"]);
    expect(restoredTables(plan)).toEqual(["altered", "dropped"]);
  });

  it("replaces changed triggers and views, and drops triggers the snapshot does not have", () => {
    const a = table("a", { triggers: [trigger("a_ai", "a")] });
    const snapshot = snapshotOf([a, table("b")], ["v"]);
    const live = liveOf(snapshot);
    live.triggers = [
      { name: "a_ai", table: "a", signature: "edited" },
      { name: "b_new", table: "b", signature: "x" },
    ];
    live.views.set("v", "edited");
    const plan = planFull(snapshot, presentOf(snapshot), live);
    expect(plan.dropTriggers.sort()).toEqual(["a_ai", "b_new"]);
    expect(plan.createTriggers.map((t) => t.name)).toEqual(["a_ai"]);
    expect(plan.dropViews).toEqual(["v"]);
    expect(plan.createViews.map((v) => v.name)).toEqual(["v"]);
    expect(plan.refill).toEqual([]);
  });
});

describe("the statements that carry out a plan", () => {
  it("fix keyed tables row by row (then verify them), refill keyless ones, and keep triggers from firing", () => {
    const keyed = table("keyed", { triggers: [trigger("keyed_ai", "keyed")] });
    const keyless = table("keyless", { key: null });
    const snapshot = snapshotOf([keyed, keyless]);
    const present = presentOf(snapshot);
    present.set("keyless", { type: "BASE TABLE", ai: 9, ut: 100 });
    const plan = planFast(
      [keyed, keyless],
      present,
      new Map([
        ["keyed", "x"],
        ["keyless", "y"],
      ]),
    );
    const steps = applySteps("app", snapshot, plan);

    expect(steps.structure[0]).toBe("SET SESSION foreign_key_checks = 0, unique_checks = 0");
    expect(steps.structure).toContain("DROP TRIGGER IF EXISTS `app`.`keyed_ai`");
    const begin = steps.structure.indexOf("START TRANSACTION");
    expect(begin).toBeGreaterThan(steps.structure.indexOf("DROP TRIGGER IF EXISTS `app`.`keyed_ai`"));
    const body = steps.structure.slice(begin + 1, -1);
    expect(steps.structure.at(-1)).toBe("COMMIT");
    expect(body[0]).toMatch(/^DELETE l FROM `app`.`keyed` l LEFT JOIN `__throwaway_snapshot_seed`.`keyed` s ON s.`id` = l.`id` AND /);
    expect(body[0]).toContain("CAST(l.`v` AS BINARY) <=> CAST(s.`v` AS BINARY)");
    expect(body[1]).toMatch(/^INSERT INTO `app`.`keyed` \(`id`, `v`\) SELECT s.`id`, s.`v` FROM /);
    expect(body.slice(2)).toEqual([
      "DELETE FROM `app`.`keyless`",
      "INSERT INTO `app`.`keyless` (`id`, `v`) SELECT `id`, `v` FROM `__throwaway_snapshot_seed`.`keyless`",
    ]);

    expect(steps.diffed.map((t) => t.name)).toEqual(["keyed"]);
    expect(steps.verify).toEqual(["CHECKSUM TABLE `app`.`keyed`"]);
    expect(steps.finish).toEqual([
      "ALTER TABLE `app`.`keyless` AUTO_INCREMENT = 5",
      "SET SESSION sql_mode = 'STRICT_TRANS_TABLES'",
      "CREATE TRIGGER keyed_ai ...",
      "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
      "SET SESSION foreign_key_checks = 1, unique_checks = 1",
    ]);
  });

  it("checksum tables with generated columns by an SQL hash, and refill missed tables in one transaction", () => {
    const generated = table("gen", { generated: true });
    const snapshot = snapshotOf([generated]);
    const plan = planFast([generated], presentOf(snapshot), new Map([["gen", "x"]]));
    const { verify } = applySteps("app", snapshot, plan);
    expect(verify).toHaveLength(1);
    expect(verify[0]).toMatch(
      /^SELECT COUNT\(\*\) AS n, SUM\(.*MD5\(CONCAT_WS\(',', QUOTE\(CAST\(`id` AS BINARY\)\), QUOTE\(CAST\(`v` AS BINARY\)\)\)\)/,
    );
    expect(refillStatements("app", snapshot, [])).toEqual([]);
    expect(refillStatements("app", snapshot, [generated])).toEqual([
      "START TRANSACTION",
      "DELETE FROM `app`.`gen`",
      "INSERT INTO `app`.`gen` (`id`, `v`) SELECT `id`, `v` FROM `__throwaway_snapshot_seed`.`gen`",
      "COMMIT",
    ]);
  });

  it("create a dropped database with the snapshot's charset before anything else", () => {
    const snapshot = snapshotOf([table("a")]);
    const live = { ...liveOf(snapshot), databaseExists: false, shapes: new Map<string, string>() };
    const present: Present = new Map();
    const steps = applySteps("app", snapshot, planFull(snapshot, present, live));
    expect(steps.structure.slice(1, 4)).toEqual([
      "CREATE DATABASE IF NOT EXISTS `app` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
      "USE `app`",
      table("a").createSql,
    ]);
  });
});
