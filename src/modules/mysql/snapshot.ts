import type mysql from "mysql2/promise";
import { env } from "../../config.js";
import { debug } from "../../debug.js";
import { type ErrorContext, InvalidOptionError } from "../../errors.js";
import type { InternalConnection } from "./connections.js";
import { MySqlQueryError, mysqlErrorFacts } from "./errors.js";
import { SNAPSHOT_SCHEMA_PREFIX } from "./settings.js";

/** What `snapshot()` captured. */
export interface SnapshotResult {
  name: string;
  /** Tables copied. */
  tables: number;
  /** Views whose definitions were recorded. */
  views: number;
  /** Triggers whose definitions were recorded. */
  triggers: number;
  durationMs: number;
}

/** What `restore()` did: which tables it had to look at and which it had to put back. */
export interface RestoreResult {
  name: string;
  /**
   * `fast`: no DDL ran since this snapshot was last taken or restored, so only tables modified since then were
   * checked; `full`: every table's definition and checksum was compared (after DDL, a server restart, or when
   * switching to another snapshot).
   */
  mode: "fast" | "full";
  /** Tables whose checksum was compared with the snapshot's. */
  checked: string[];
  /** Tables whose rows (and auto-increment counter) were put back, or that were recreated. */
  restored: string[];
  /** Tables and views created since the snapshot, dropped. */
  dropped: string[];
  durationMs: number;
}

export interface TriggerState {
  name: string;
  table: string;
  /** `SHOW CREATE TRIGGER`'s original statement, run again as is. */
  createSql: string;
  sqlMode: string;
  /** What makes two triggers the same, from `information_schema.TRIGGERS`. */
  signature: string;
}

export interface TableState {
  name: string;
  /** `SHOW CREATE TABLE` as taken: recreates the table with its keys, foreign keys and counter. */
  createSql: string;
  /** The same without the `AUTO_INCREMENT=n` option, which changes with every insert. */
  shape: string;
  /** Columns a row can be copied through: all but generated ones (invisible ones included). */
  columns: string[];
  /**
   * True when the table has generated columns. MariaDB's CHECKSUM TABLE reads whatever a virtual column's buffer
   * last held (the same rows checksum differently before and after a restart), so such tables are hashed in SQL
   * over their stored columns instead: slower (about 40x), but exact.
   */
  generated: boolean;
  /**
   * The columns that identify a row (the primary key, else a unique key of NOT NULL stored columns), or `null`:
   * with a key, a dirty table is fixed row by row (only differing rows are deleted and re-inserted), else refilled.
   */
  key: string[] | null;
  /** Columns compared as bytes in the row diff: text compares case- and pad-insensitively under most collations. */
  textColumns: Set<string>;
  autoIncrement: number | null;
  checksum: string | null;
  triggers: TriggerState[];
}

export interface ViewState {
  name: string;
  createSql: string;
  signature: string;
}

export interface Snapshot {
  name: string;
  /** The hidden schema holding a copy of every table. */
  schema: string;
  charset: string;
  collation: string;
  tables: Map<string, TableState>;
  views: Map<string, ViewState>;
}

/**
 * The last moment the database was known to equal a snapshot: the server's clock (whole seconds), the count of
 * DDL statements the server had run, and when its status counters were last reset (a restart or `FLUSH STATUS`).
 */
export interface SyncPoint {
  snapshot: string;
  second: number;
  ddl: number | undefined;
  flushEpoch: number | undefined;
}

/**
 * Server-wide counters of every statement that can change a table's definition or empty it without touching its
 * `UPDATE_TIME` (TRUNCATE). Unchanged counters prove no such statement ran, from any connection, including
 * prepared statements and stored programs.
 */
const DDL_COUNTERS = [
  "Com_alter_db",
  "Com_alter_table",
  "Com_create_db",
  "Com_create_index",
  "Com_create_table",
  "Com_create_trigger",
  "Com_create_view",
  "Com_drop_db",
  "Com_drop_index",
  "Com_drop_table",
  "Com_drop_trigger",
  "Com_drop_view",
  "Com_rename_table",
  "Com_truncate",
] as const;

const SYNC_STATEMENTS = [
  `SHOW GLOBAL STATUS WHERE Variable_name IN (${[...DDL_COUNTERS, "Uptime_since_flush_status"].map((n) => `'${n}'`).join(", ")})`,
  "SELECT UNIX_TIMESTAMP() AS now",
];

const lockWaitStatement = (seconds: number) => `SET SESSION lock_wait_timeout = ${seconds}, innodb_lock_wait_timeout = ${seconds}`;

/**
 * Session settings of the connection snapshots run on: copy rows exactly (a 0 in an AUTO_INCREMENT column stays 0,
 * zero dates pass), read UPDATE_TIME in UTC, fail on held locks instead of hanging, and make MySQL 8 report live
 * table statistics instead of its 24-hour cache.
 */
export async function prepareSnapshotSession(connection: mysql.Connection): Promise<void> {
  await connection.query("SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  try {
    await connection.query("SET SESSION information_schema_stats_expiry = 0");
  } catch (error) {
    if (mysqlErrorFacts(error).mysqlCode !== "ER_UNKNOWN_SYSTEM_VARIABLE") throw error;
  }
}

const SNAPSHOT_NAME = /^[A-Za-z0-9_]{1,40}$/;

export function q(identifier: string): string {
  return `\`${identifier.replace(/`/g, "``")}\``;
}

/** Runs statements in one round trip (the connection allows multiple statements); one result per statement. */
async function batch(connection: mysql.Connection, statements: readonly string[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  // No values are passed, so mysql2 leaves `?` in the server's own texts (defaults, comments) alone.
  const [result] = await connection.query(statements.join(";\n"));
  return statements.length === 1 ? [result] : (result as unknown[]);
}

type Row = Record<string, unknown>;
const rows = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : []);
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Snapshots of one database, kept in hidden schemas on the same server, restored by putting back only what changed.
 *
 * How a restore finds what changed, cheaply and exactly:
 * - No DDL since the last snapshot/restore of this name (the server's `Com_*` counters say so, and its status was not
 *   reset): only tables whose `UPDATE_TIME` is at or after that moment (or unknown) can differ; their
 *   `CHECKSUM TABLE` and `AUTO_INCREMENT` are compared with the snapshot's. `UPDATE_TIME` covers every row change,
 *   foreign-key cascades included, from any connection; TRUNCATE does not touch it but counts as DDL.
 * - Otherwise every table's `SHOW CREATE TABLE`, triggers, views, checksums and counters are compared.
 * Changed tables are fixed from their copy with foreign-key checks off and their triggers dropped meanwhile (so they
 * do not fire): row by row on their key when they have one (only differing rows are rewritten, then the checksum is
 * verified), else refilled whole; counters are set back; dropped or altered tables are recreated from their
 * original definition; tables and views created since are dropped.
 */
export class SnapshotManager {
  private readonly admin: InternalConnection;
  private readonly database: string;
  private readonly context: () => ErrorContext;
  private readonly snapshots = new Map<string, Snapshot>();
  private sync: SyncPoint | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(admin: InternalConnection, database: string, context: () => ErrorContext) {
    this.admin = admin;
    this.database = database;
    this.context = context;
  }

  names(): string[] {
    return [...this.snapshots.keys()];
  }

  /** Forget what is known about the live database (after a restart: counters and `UPDATE_TIME`s start over). */
  invalidate(): void {
    this.sync = undefined;
  }

  snapshot(name: string): Promise<SnapshotResult> {
    if (typeof name !== "string" || !SNAPSHOT_NAME.test(name)) {
      throw new InvalidOptionError("snapshot(name)", "1-40 letters, digits or _", name);
    }
    return this.serialize(`snapshot(${JSON.stringify(name)})`, (lockWait) => this.take(name, lockWait));
  }

  restore(name: string): Promise<RestoreResult> {
    if (!this.snapshots.has(name)) {
      const taken = this.names();
      throw new InvalidOptionError(
        "restore(name)",
        `the name of a snapshot taken with snapshot() (taken: ${taken.join(", ") || "none"})`,
        name,
        {
          hint: taken.length === 0 ? "call snapshot() first, e.g. in beforeAll" : undefined,
        },
      );
    }
    return this.serialize(`restore(${JSON.stringify(name)})`, (lockWait) => this.putBack(this.snapshots.get(name)!, lockWait));
  }

  /** One operation at a time; a failed one leaves no session state or stale knowledge behind. */
  private serialize<T>(what: string, operation: (lockWait: number) => Promise<T>): Promise<T> {
    // Read at each snapshot and restore (`THROWAWAY_MYSQL_LOCK_WAIT`), so a test can change it between two.
    const lockWait = env.mysqlLockWaitSeconds();
    const run = this.queue.then(async () => {
      try {
        return await operation(lockWait);
      } catch (error) {
        this.sync = undefined;
        this.admin.discard();
        throw this.wrap(what, error, lockWait);
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private wrap(what: string, error: unknown, lockWait: number): unknown {
    if (error instanceof InvalidOptionError || error instanceof MySqlQueryError) return error;
    if (error && typeof error === "object" && "shortMessage" in error) return error; // a connection error, already clear
    const facts = mysqlErrorFacts(error);
    const sql = (error as { sql?: unknown }).sql;
    const why =
      facts.mysqlCode === "ER_LOCK_WAIT_TIMEOUT"
        ? `waited ${lockWait} s for a lock another connection holds (an open transaction?): commit, roll back or close it first`
        : `${facts.mysqlCode ?? "error"}: ${facts.sqlMessage}`;
    return new MySqlQueryError(`${what} on database ${JSON.stringify(this.database)} failed: ${why}`, {
      ...this.context(),
      ...facts,
      ...(typeof sql === "string" ? { sql } : {}),
      cause: error,
    });
  }

  // ---- snapshot ---------------------------------------------------------------------------------------------

  private async take(name: string, lockWait: number): Promise<SnapshotResult> {
    const started = performance.now();
    const connection = await this.admin.get();
    const db = this.database;
    const schema = `${SNAPSHOT_SCHEMA_PREFIX}${name}`;
    const dbLiteral = connection.escape(db);
    const [, schemaRows, tableRows, columnRows, keyRows, triggerRows, viewRows] = await batch(connection, [
      lockWaitStatement(lockWait),
      `SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${dbLiteral}`,
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, AUTO_INCREMENT AS ai FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${dbLiteral} ORDER BY TABLE_NAME`,
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, GENERATION_EXPRESSION AS g, EXTRA AS x, DATA_TYPE AS dt FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${dbLiteral} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      "SELECT TABLE_NAME AS t, INDEX_NAME AS i, COLUMN_NAME AS c, NULLABLE AS nullable FROM information_schema.STATISTICS " +
        `WHERE TABLE_SCHEMA = ${dbLiteral} AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
      triggersQuery(dbLiteral),
      viewsQuery(dbLiteral),
    ]);
    const charset = rows(schemaRows)[0];
    if (!charset) {
      throw new MySqlQueryError(`snapshot(${JSON.stringify(name)}) failed: the database ${JSON.stringify(db)} does not exist`, {
        ...this.context(),
      });
    }
    const tables: string[] = [];
    const views: string[] = [];
    const autoIncrements = new Map<string, number | null>();
    for (const row of rows(tableRows)) {
      const table = String(row.name);
      if (row.type === "VIEW") views.push(table);
      else if (row.type === "BASE TABLE") {
        tables.push(table);
        autoIncrements.set(table, num(row.ai));
      } else {
        throw new MySqlQueryError(
          `snapshot(${JSON.stringify(name)}) cannot copy ${q(table)}: it is a ${String(row.type)}, and snapshots hold base tables and views only`,
          { ...this.context() },
        );
      }
    }
    const columns = new Map<string, string[]>(tables.map((t) => [t, []]));
    const generated = new Set<string>();
    const textColumns = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
    for (const row of rows(columnRows)) {
      if (isGenerated(row)) generated.add(String(row.t));
      else columns.get(String(row.t))?.push(String(row.c));
      if (TEXT_TYPES.test(String(row.dt))) textColumns.get(String(row.t))?.add(String(row.c));
    }
    const keys = rowKeys(rows(keyRows), columns);
    const triggers = rows(triggerRows).map((row) => ({ name: String(row.name), table: String(row.t), signature: triggerSignature(row) }));
    const viewSignatures = new Map(rows(viewRows).map((row) => [String(row.name), viewSignature(row)]));

    const definitions = await batch(connection, [
      ...tables.map((t) => `SHOW CREATE TABLE ${q(db)}.${q(t)}`),
      ...views.map((v) => `SHOW CREATE VIEW ${q(db)}.${q(v)}`),
      ...triggers.map((t) => `SHOW CREATE TRIGGER ${q(db)}.${q(t.name)}`),
    ]);
    const tableStates = new Map<string, TableState>();
    tables.forEach((table, i) => {
      const createSql = String(rows(definitions[i])[0]?.["Create Table"]);
      tableStates.set(table, {
        name: table,
        createSql,
        shape: shapeOf(createSql),
        columns: columns.get(table) ?? [],
        generated: generated.has(table),
        key: keys.get(table) ?? null,
        textColumns: textColumns.get(table) ?? new Set(),
        autoIncrement: autoIncrements.get(table) ?? null,
        checksum: null,
        triggers: [],
      });
    });
    const viewStates = new Map<string, ViewState>();
    views.forEach((view, i) => {
      const createSql = String(rows(definitions[tables.length + i])[0]?.["Create View"]);
      viewStates.set(view, { name: view, createSql, signature: viewSignatures.get(view) ?? "" });
    });
    triggers.forEach((trigger, i) => {
      const row = rows(definitions[tables.length + views.length + i])[0] ?? {};
      tableStates.get(trigger.table)?.triggers.push({
        ...trigger,
        createSql: String(row["SQL Original Statement"]),
        sqlMode: String(row.sql_mode ?? ""),
      });
    });

    // From here the hidden schema is rebuilt: an earlier snapshot of this name is gone, even if this one fails.
    this.snapshots.delete(name);
    const copied = await batch(connection, [
      `DROP DATABASE IF EXISTS ${q(schema)}`,
      `CREATE DATABASE ${q(schema)} CHARACTER SET ${String(charset.cs)} COLLATE ${String(charset.co)}`,
      ...tables.map((t) => `CREATE TABLE ${q(schema)}.${q(t)} LIKE ${q(db)}.${q(t)}`),
      // One transaction: every table is read at the same moment, and the copy costs one commit.
      "START TRANSACTION WITH CONSISTENT SNAPSHOT",
      ...tables.map((t) => copyRows(tableStates.get(t)!, `${q(schema)}.${q(t)}`, `${q(db)}.${q(t)}`)),
      "COMMIT",
      ...checksumStatements(db, [...tableStates.values()]),
      ...SYNC_STATEMENTS,
    ]);
    const checksumResults = copied.slice(copied.length - SYNC_STATEMENTS.length - checksumStatements(db, [...tableStates.values()]).length);
    const checksums = checksumsOf(db, [...tableStates.values()], checksumResults);
    for (const table of tableStates.values()) table.checksum = checksums.get(table.name) ?? null;

    this.snapshots.set(name, {
      name,
      schema,
      charset: String(charset.cs),
      collation: String(charset.co),
      tables: tableStates,
      views: viewStates,
    });
    this.sync = syncPointOf(name, copied.slice(-SYNC_STATEMENTS.length));
    const result = {
      name,
      tables: tables.length,
      views: views.length,
      triggers: triggers.length,
      durationMs: Math.round(performance.now() - started),
    };
    debug("mysql", `snapshot ${JSON.stringify(name)} of ${db}: ${result.tables} tables, ${result.views} views in ${result.durationMs} ms`);
    return result;
  }

  // ---- restore ----------------------------------------------------------------------------------------------

  private async putBack(snapshot: Snapshot, lockWait: number): Promise<RestoreResult> {
    const started = performance.now();
    const connection = await this.admin.get();
    const db = this.database;
    const dbLiteral = connection.escape(db);
    const state = (
      await batch(connection, [
        lockWaitStatement(lockWait),
        ...SYNC_STATEMENTS,
        `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, AUTO_INCREMENT AS ai, UNIX_TIMESTAMP(UPDATE_TIME) AS ut FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${dbLiteral}`,
      ])
    ).slice(1);
    const now = syncPointOf(snapshot.name, state.slice(0, SYNC_STATEMENTS.length));
    const present = new Map(
      rows(state[SYNC_STATEMENTS.length]).map((row) => [String(row.name), { type: String(row.type), ai: num(row.ai), ut: num(row.ut) }]),
    );
    const read = performance.now();
    const since = this.sync;
    const fast = since !== undefined && canRestoreFast(since, now, snapshot, present);
    let plan: Plan;
    if (since !== undefined && fast) {
      const candidates = fastCandidates(snapshot, present, since.second);
      const checksums = checksumsOf(db, candidates, await batch(connection, checksumStatements(db, candidates)));
      plan = planFast(candidates, present, checksums);
    } else {
      plan = planFull(snapshot, present, await this.readLive(connection, snapshot, present));
    }

    const compared = performance.now();
    const restored = restoredTables(plan);
    if (isNoop(plan)) {
      // Nothing to put back: the state read at the start is the new sync point (no write happened since).
      this.sync = now;
    } else {
      this.sync = await this.apply(connection, snapshot, plan);
    }
    const result: RestoreResult = {
      name: snapshot.name,
      mode: fast ? "fast" : "full",
      checked: plan.checked.sort(),
      restored,
      dropped: plan.dropped.sort(),
      durationMs: Math.round(performance.now() - started),
    };
    debug(
      "mysql",
      `restore ${JSON.stringify(snapshot.name)} (${result.mode}): checked ${result.checked.length}, restored [${restored.join(", ")}], ` +
        `dropped [${result.dropped.join(", ")}] in ${result.durationMs} ms (read ${ms(read - started)}, compare ${ms(compared - read)}, ` +
        `apply ${ms(performance.now() - compared)})${plan.reasons.length ? `: ${plan.reasons.join("; ")}` : ""}`,
    );
    return result;
  }

  /** Reads what a full comparison needs, in one round trip: the database, triggers, views, definitions, checksums. */
  private async readLive(connection: mysql.Connection, snapshot: Snapshot, present: Present): Promise<LiveState> {
    const db = this.database;
    const dbLiteral = connection.escape(db);
    const common = commonTables(snapshot, present);
    const state = await batch(connection, [
      `SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${dbLiteral}`,
      triggersQuery(dbLiteral),
      viewsQuery(dbLiteral),
      ...common.map((t) => `SHOW CREATE TABLE ${q(db)}.${q(t.name)}`),
      ...checksumStatements(db, common),
    ]);
    return {
      databaseExists: Number(rows(state[0])[0]?.n ?? 0) > 0,
      triggers: rows(state[1]).map((row) => ({ name: String(row.name), table: String(row.t), signature: triggerSignature(row) })),
      views: new Map(rows(state[2]).map((row) => [String(row.name), viewSignature(row)])),
      shapes: new Map(common.map((t, i) => [t.name, shapeOf(String(rows(state[3 + i])[0]?.["Create Table"]))])),
      checksums: checksumsOf(db, common, state.slice(3 + common.length)),
    };
  }

  /**
   * Carries out a plan in an order foreign keys, triggers and views allow, in at most two round trips (three with
   * views), and returns the new sync point. Tables fixed by row diff are checksummed again at once; any that still
   * differ (a comparison the diff got wrong) are refilled whole before anything else happens.
   */
  private async apply(connection: mysql.Connection, snapshot: Snapshot, plan: Plan): Promise<SyncPoint> {
    const db = this.database;
    const { structure, verify, diffed, finish } = applySteps(db, snapshot, plan);
    const sync = plan.createViews.length > 0 ? [] : SYNC_STATEMENTS;

    let results: unknown[];
    if (verify.length === 0) {
      results = await batch(connection, [...structure, ...finish, ...sync]);
    } else {
      const first = await batch(connection, [...structure, ...verify]);
      const checksums = checksumsOf(db, diffed, first.slice(-verify.length));
      const missed = diffed.filter((t) => checksums.get(t.name) !== t.checksum);
      if (missed.length > 0) debug("mysql", `row diff left ${missed.map((t) => t.name).join(", ")} different: refilling whole`);
      const fixes = refillStatements(db, snapshot, missed);
      results = await batch(connection, [...fixes, ...finish, ...sync]);
    }
    if (plan.createViews.length === 0) return syncPointOf(snapshot.name, results.slice(-SYNC_STATEMENTS.length));
    await createViews(connection, plan.createViews);
    return syncPointOf(snapshot.name, await batch(connection, SYNC_STATEMENTS));
  }
}

// ---- restore planning: what changed and what to put back, from what was read (no I/O) ------------------------

/** The database's tables and views at a restore's start: type, `AUTO_INCREMENT`, `UPDATE_TIME` (seconds) by name. */
export type Present = Map<string, { type: string; ai: number | null; ut: number | null }>;

/** What a full comparison reads from the live database (see `readLive`). */
export interface LiveState {
  databaseExists: boolean;
  triggers: { name: string; table: string; signature: string }[];
  /** View name → signature. */
  views: Map<string, string>;
  /** Definition without its counter, of each snapshot table still present as a base table. */
  shapes: Map<string, string>;
  checksums: Map<string, string | null>;
}

/** What a restore does, in the order `applySteps` carries it out. */
export interface Plan {
  createDatabase: boolean;
  /** Why each table is put back, for the debug log. */
  reasons: string[];
  checked: string[];
  dropped: string[];
  dropTables: string[];
  dropViews: string[];
  dropTriggers: string[];
  recreate: TableState[];
  refill: TableState[];
  autoIncrement: Map<string, number>;
  createTriggers: TriggerState[];
  createViews: ViewState[];
}

function emptyPlan(): Plan {
  return {
    createDatabase: false,
    reasons: [],
    checked: [],
    dropped: [],
    dropTables: [],
    dropViews: [],
    dropTriggers: [],
    recreate: [],
    refill: [],
    autoIncrement: new Map(),
    createTriggers: [],
    createViews: [],
  };
}

/**
 * True when nothing but row changes can have happened since `since`, so `UPDATE_TIME` tells which tables to check:
 * the same snapshot, the same DDL count, status not reset, and exactly the snapshot's tables and views present.
 */
export function canRestoreFast(since: SyncPoint, now: SyncPoint, snapshot: Snapshot, present: Present): boolean {
  if (since.snapshot !== snapshot.name) return false;
  if (since.ddl === undefined || now.ddl === undefined || since.ddl !== now.ddl) return false;
  // A restart or FLUSH STATUS resets the counters (and a restart UPDATE_TIME): the counters prove nothing then.
  if (since.flushEpoch === undefined || now.flushEpoch === undefined || Math.abs(since.flushEpoch - now.flushEpoch) > 2) return false;
  if (present.size !== snapshot.tables.size + snapshot.views.size) return false;
  for (const [name, live] of present) {
    const expected = snapshot.tables.has(name) ? "BASE TABLE" : snapshot.views.has(name) ? "VIEW" : undefined;
    if (live.type !== expected) return false;
  }
  return true;
}

/**
 * The tables a fast restore checksums: written at or after the sync point's second (`UPDATE_TIME` has whole
 * seconds, so the same second counts), of unknown write time, or with a moved counter.
 */
export function fastCandidates(snapshot: Snapshot, present: Present, sinceSecond: number): TableState[] {
  return [...snapshot.tables.values()].filter((table) => {
    const live = present.get(table.name)!;
    return live.ut === null || live.ut >= sinceSecond || live.ai !== table.autoIncrement;
  });
}

/** A fast restore's plan: the candidates' rows and counters, their definitions known unchanged. */
export function planFast(candidates: readonly TableState[], present: Present, checksums: Map<string, string | null>): Plan {
  const plan = emptyPlan();
  for (const table of candidates) {
    plan.checked.push(table.name);
    planTableData(plan, table, checksums.get(table.name) ?? null, present.get(table.name)?.ai ?? null);
  }
  return plan;
}

/** The snapshot's tables still present as base tables: the ones whose definition and rows a full restore compares. */
export function commonTables(snapshot: Snapshot, present: Present): TableState[] {
  return [...snapshot.tables.values()].filter((t) => present.get(t.name)?.type === "BASE TABLE");
}

/** Compares everything: the database, each table's definition and triggers, views, checksums and counters. */
export function planFull(snapshot: Snapshot, present: Present, live: LiveState): Plan {
  const plan = emptyPlan();
  plan.createDatabase = !live.databaseExists;
  for (const [name, current] of present) {
    const wanted = snapshot.tables.has(name) ? "BASE TABLE" : snapshot.views.has(name) ? "VIEW" : undefined;
    if (current.type === wanted) continue;
    if (current.type === "VIEW") plan.dropViews.push(name);
    else plan.dropTables.push(name);
    if (wanted === undefined) plan.dropped.push(name);
  }
  for (const table of snapshot.tables.values()) {
    const shape = live.shapes.get(table.name);
    if (shape === undefined || shape !== table.shape) {
      if (shape !== undefined) plan.dropTables.push(table.name);
      plan.recreate.push(table);
      plan.createTriggers.push(...table.triggers);
      continue;
    }
    plan.checked.push(table.name);
    planTableData(plan, table, live.checksums.get(table.name) ?? null, present.get(table.name)?.ai ?? null);
    const triggers = live.triggers.filter((t) => t.table === table.name);
    if (triggers.map((t) => t.signature).join("\n") !== table.triggers.map((t) => t.signature).join("\n")) {
      plan.dropTriggers.push(...triggers.map((t) => t.name).filter((n) => !plan.dropTriggers.includes(n)));
      plan.createTriggers.push(...table.triggers);
    }
  }
  // Triggers on tables that are not in the snapshot go with those tables; others left over are dropped.
  for (const trigger of live.triggers) {
    if (!snapshot.tables.has(trigger.table) && !plan.dropTables.includes(trigger.table)) plan.dropTriggers.push(trigger.name);
  }
  for (const view of snapshot.views.values()) {
    const signature = live.views.get(view.name);
    if (signature === view.signature && present.get(view.name)?.type === "VIEW") continue;
    if (signature !== undefined && !plan.dropViews.includes(view.name)) plan.dropViews.push(view.name);
    plan.createViews.push(view);
  }
  return plan;
}

/** Data-only differences of a table whose definition matches: refill when the rows differ, reset the counter. */
function planTableData(plan: Plan, table: TableState, checksum: string | null, autoIncrement: number | null): void {
  if (checksum !== table.checksum) {
    plan.refill.push(table);
    plan.reasons.push(`${table.name}: checksum ${checksum} (snapshot ${table.checksum})`);
  }
  if (autoIncrement !== table.autoIncrement && table.autoIncrement !== null) {
    plan.autoIncrement.set(table.name, table.autoIncrement);
    plan.reasons.push(`${table.name}: AUTO_INCREMENT ${autoIncrement} (snapshot ${table.autoIncrement})`);
  }
}

/** The tables a plan puts back (rows, counter or whole table), sorted: `RestoreResult.restored`. */
export function restoredTables(plan: Plan): string[] {
  return [...new Set([...plan.recreate.map((t) => t.name), ...plan.refill.map((t) => t.name), ...plan.autoIncrement.keys()])].sort();
}

/** True when the plan writes nothing: the database already equals the snapshot. */
export function isNoop(plan: Plan): boolean {
  const changes = restoredTables(plan).length + plan.dropTables.length + plan.dropViews.length + plan.createViews.length;
  return changes + plan.dropTriggers.length + plan.createTriggers.length === 0 && !plan.createDatabase;
}

/** The statements that carry out a plan (views, which may need several passes, are created after them). */
export interface ApplySteps {
  /** Drops, recreations and row fixes (one transaction), foreign-key and unique checks off. */
  structure: string[];
  /** Checksums of the tables fixed row by row, run in the same round trip as `structure`. */
  verify: string[];
  /** The tables fixed row by row, in the order `verify` reads them. */
  diffed: TableState[];
  /** Counters, triggers (each under its own sql_mode), checks back on. */
  finish: string[];
}

/** A plan as statements, in an order foreign keys and triggers allow. */
export function applySteps(db: string, snapshot: Snapshot, plan: Plan): ApplySteps {
  const from = (t: TableState) => `${q(snapshot.schema)}.${q(t.name)}`;
  const into = (t: TableState) => `${q(db)}.${q(t.name)}`;
  // Refilling a table fires its triggers: drop them for the refill and create them again after.
  const refillTriggers = plan.refill.flatMap((t) => t.triggers).filter((t) => !plan.createTriggers.includes(t));
  const dropTriggers = [...new Set([...plan.dropTriggers, ...refillTriggers.map((t) => t.name)])];
  const createTriggers = [...plan.createTriggers, ...refillTriggers];

  const structure = ["SET SESSION foreign_key_checks = 0, unique_checks = 0"];
  if (plan.createDatabase) {
    structure.push(`CREATE DATABASE IF NOT EXISTS ${q(db)} CHARACTER SET ${snapshot.charset} COLLATE ${snapshot.collation}`);
  }
  // SHOW CREATE texts name their table (and referenced tables) without the database.
  structure.push(`USE ${q(db)}`);
  structure.push(...plan.dropViews.map((v) => `DROP VIEW IF EXISTS ${q(db)}.${q(v)}`));
  structure.push(...plan.dropTables.map((t) => `DROP TABLE IF EXISTS ${q(db)}.${q(t)}`));
  structure.push(...dropTriggers.map((t) => `DROP TRIGGER IF EXISTS ${q(db)}.${q(t)}`));
  structure.push(...plan.recreate.map((t) => t.createSql));
  const diffed = plan.refill.filter((t) => t.key !== null);
  if (plan.refill.length + plan.recreate.length > 0) {
    structure.push("START TRANSACTION");
    for (const table of plan.refill) {
      structure.push(...(table.key ? diffRows(table, into(table), from(table)) : refillTable(table, into(table), from(table))));
    }
    structure.push(...plan.recreate.map((t) => copyRows(t, into(t), from(t))));
    structure.push("COMMIT");
  }

  const finish: string[] = [];
  for (const [table, value] of plan.autoIncrement) finish.push(`ALTER TABLE ${q(db)}.${q(table)} AUTO_INCREMENT = ${value}`);
  for (const trigger of createTriggers) finish.push(`SET SESSION sql_mode = ${sqlString(trigger.sqlMode)}`, trigger.createSql);
  if (createTriggers.length > 0) finish.push("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  finish.push("SET SESSION foreign_key_checks = 1, unique_checks = 1");
  return { structure, verify: checksumStatements(db, diffed), diffed, finish };
}

/** Refills tables whole from their copies, in one transaction (none: no statements). */
export function refillStatements(db: string, snapshot: Snapshot, tables: readonly TableState[]): string[] {
  if (tables.length === 0) return [];
  const fills = tables.flatMap((t) => refillTable(t, `${q(db)}.${q(t.name)}`, `${q(snapshot.schema)}.${q(t.name)}`));
  return ["START TRANSACTION", ...fills, "COMMIT"];
}

function refillTable(table: TableState, into: string, from: string): string[] {
  return [`DELETE FROM ${into}`, copyRows(table, into, from)];
}

/** Views may use views: create them in passes until all exist or a pass makes no progress (then its error stands). */
async function createViews(connection: mysql.Connection, views: readonly ViewState[]): Promise<void> {
  let pending = [...views];
  while (pending.length > 0) {
    const failed: { view: ViewState; error: unknown }[] = [];
    for (const view of pending) {
      await connection.query(view.createSql).catch((error: unknown) => failed.push({ view, error }));
    }
    if (failed.length === pending.length) throw failed[0]!.error;
    pending = failed.map((f) => f.view);
  }
}

/** Data types whose equality ignores case or trailing spaces (or, for JSON, formatting): compared as bytes instead. */
const TEXT_TYPES =
  /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|json|geometry|point|linestring|polygon|multi\w+|geometrycollection)$/i;

/** Each table's row key: the primary key, else the first unique key whose columns are all NOT NULL and stored. */
function rowKeys(indexRows: readonly Row[], columns: Map<string, string[]>): Map<string, string[]> {
  const indexes = new Map<string, { table: string; columns: string[]; usable: boolean }>();
  for (const row of indexRows) {
    const id = `${String(row.t)}\u0000${String(row.i)}`;
    const index = indexes.get(id) ?? { table: String(row.t), columns: [], usable: true };
    index.columns.push(String(row.c));
    if (row.nullable === "YES" || !columns.get(index.table)?.includes(String(row.c))) index.usable = false;
    indexes.set(id, index);
  }
  const keys = new Map<string, string[]>();
  for (const index of indexes.values()) if (index.usable && !keys.has(index.table)) keys.set(index.table, index.columns);
  return keys;
}

/**
 * Fixes a table row by row: deletes live rows with no identical row in the copy (changed or added), then inserts
 * the copy's rows whose key is missing (changed or deleted). Reads both tables once by key and writes only the
 * differing rows: ~4x faster than a whole refill when a test changed a few rows.
 */
function diffRows(table: TableState, into: string, from: string): string[] {
  const key = table.key!;
  const on = key.map((c) => `s.${q(c)} = l.${q(c)}`);
  const same = table.columns.map((c) =>
    table.textColumns.has(c) ? `CAST(l.${q(c)} AS BINARY) <=> CAST(s.${q(c)} AS BINARY)` : key.includes(c) ? "" : `l.${q(c)} <=> s.${q(c)}`,
  );
  const columns = table.columns.map(q).join(", ");
  const first = q(key[0]!);
  return [
    `DELETE l FROM ${into} l LEFT JOIN ${from} s ON ${[...on, ...same.filter(Boolean)].join(" AND ")} WHERE s.${first} IS NULL`,
    `INSERT INTO ${into} (${columns}) SELECT ${table.columns.map((c) => `s.${q(c)}`).join(", ")} FROM ${from} s LEFT JOIN ${into} l ON ${on.join(" AND ")} WHERE l.${first} IS NULL`,
  ];
}

function copyRows(table: TableState, into: string, from: string): string {
  const columns = table.columns.map(q).join(", ");
  return `INSERT INTO ${into} (${columns}) SELECT ${columns} FROM ${from}`;
}

/**
 * One CHECKSUM TABLE for all plain tables (a native scan, ~0.2 ms per 1000 rows), then one SQL hash per table with
 * generated columns: the row count and the exact sum of a 60-bit MD5 prefix of each row's stored columns, quoted
 * (so NULL and 'NULL' differ) and taken as bytes (so no mix of collations can fail).
 */
function checksumStatements(db: string, tables: readonly TableState[]): string[] {
  const plain = tables.filter((t) => !t.generated);
  const statements = plain.length > 0 ? [`CHECKSUM TABLE ${plain.map((t) => `${q(db)}.${q(t.name)}`).join(", ")}`] : [];
  for (const table of tables.filter((t) => t.generated)) {
    const row = table.columns.map((c) => `QUOTE(CAST(${q(c)} AS BINARY))`).join(", ");
    statements.push(
      `SELECT COUNT(*) AS n, SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS(',', ${row})), 1, 15), 16, 10) AS UNSIGNED)) AS h FROM ${q(db)}.${q(table.name)}`,
    );
  }
  return statements;
}

/** Table name → checksum, from the results of {@link checksumStatements} (as text: compared, never computed with). */
function checksumsOf(db: string, tables: readonly TableState[], results: readonly unknown[]): Map<string, string | null> {
  const checksums = new Map<string, string | null>();
  const plain = tables.filter((t) => !t.generated);
  let next = 0;
  if (plain.length > 0) {
    const byName = new Map(rows(results[next++]).map((row) => [String(row.Table), row.Checksum === null ? null : String(row.Checksum)]));
    for (const table of plain) checksums.set(table.name, byName.get(`${db}.${table.name}`) ?? null);
  }
  for (const table of tables.filter((t) => t.generated)) {
    const row = rows(results[next++])[0];
    checksums.set(table.name, row ? `${String(row.n)}:${String(row.h)}` : null);
  }
  return checksums;
}

function syncPointOf(snapshot: string, results: readonly unknown[]): SyncPoint {
  const status = new Map(rows(results[0]).map((row) => [String(row.Variable_name), Number(row.Value)]));
  const second = Number(rows(results[1])[0]?.now);
  // A server that hides its status (some MySQL 5.7 setups without performance_schema) just gets full restores.
  const known = DDL_COUNTERS.every((name) => status.has(name)) && status.has("Uptime_since_flush_status");
  return {
    snapshot,
    second,
    ddl: known ? DDL_COUNTERS.reduce((sum, name) => sum + (status.get(name) ?? 0), 0) : undefined,
    flushEpoch: known ? second - status.get("Uptime_since_flush_status")! : undefined,
  };
}

/** The definition without its volatile `AUTO_INCREMENT=n` table option. */
function shapeOf(createSql: string): string {
  return createSql.replace(/\s+AUTO_INCREMENT=\d+/, "");
}

/** MySQL 5.7/8 mark generated columns in EXTRA and GENERATION_EXPRESSION; MariaDB fills GENERATION_EXPRESSION. */
function isGenerated(row: Row): boolean {
  const expression = row.g === null || row.g === undefined ? "" : String(row.g);
  return expression !== "" || /\b(VIRTUAL|STORED|PERSISTENT)\b/i.test(String(row.x ?? ""));
}

function triggersQuery(dbLiteral: string): string {
  return (
    "SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS t, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event, " +
    "ACTION_ORDER AS ord, SQL_MODE AS mode, DEFINER AS definer, ACTION_STATEMENT AS body " +
    `FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ${dbLiteral} ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER`
  );
}

function triggerSignature(row: Row): string {
  return JSON.stringify([row.name, row.t, row.timing, row.event, row.ord, row.mode, row.definer, row.body]);
}

function viewsQuery(dbLiteral: string): string {
  return (
    "SELECT TABLE_NAME AS name, VIEW_DEFINITION AS def, CHECK_OPTION AS chk, DEFINER AS definer, SECURITY_TYPE AS security " +
    `FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ${dbLiteral}`
  );
}

function viewSignature(row: Row): string {
  return JSON.stringify([row.def, row.chk, row.definer, row.security]);
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function sqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}
