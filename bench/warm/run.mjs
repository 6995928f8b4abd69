#!/usr/bin/env node
// The warm-start workload of issue 15, on its own (not yet one of bench/run.mjs's workloads): start to first query
// for MySQL with a realistic init script (200 tables, 200k seed rows, generated here), side by side:
//   cli          `docker run -d` with the script bind-mounted, then a mysql2 connect+query loop every 20 ms
//   tc           testcontainers 12 GenericContainer as @testcontainers/mysql configures it, script copied in, then
//                the same query loop (its listening-ports wait passes on the temporary init server's socket-less
//                boot only once the final server listens, but the loop keeps the sides comparable)
//   cold         throwaway MySqlContainer, no warm start
//   cold+tmpfs   the same with the data directory on tmpfs
//   warm-fill    withWarmStart() on an empty cache: the first start, which captures
//   warm         withWarmStart() with the cache filled
// and the same for a generic container whose first run does 2 s of work when a marker file is missing (busybox).
// Each sample stops and removes its container; cache images made here are removed at the end.
// Usage: `npm run build && node bench/warm/run.mjs [SAMPLES]` (default 3).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { GenericContainer, Wait } from "../../dist/index.js";
import { MySqlContainer } from "../../dist/modules/mysql/index.js";
import { MYSQL_ENV, MYSQL_IMAGE, MYSQL_PORT } from "../lib/config.mjs";
import { summarize } from "../lib/stats.mjs";

// testcontainers as the main bench runs it here: no Ryuk (no registry for its image), no gateway probe container.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
const { GenericContainer: TcGenericContainer } = await import("testcontainers");

const run = promisify(execFile);
const SAMPLES = Number(process.argv[2] ?? 3);
const TABLES = 200;
const ROWS_PER_TABLE = 1000;
const WARM_LABEL = "dev.throwaway.warm-key";

function seedScript(token) {
  const lines = [`-- bench ${token}`];
  for (let t = 1; t <= TABLES; t++) {
    const table = `t${String(t).padStart(3, "0")}`;
    lines.push(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT NOT NULL, KEY (qty));`);
    const values = [];
    for (let r = 1; r <= ROWS_PER_TABLE; r++) values.push(`(${r},'name-${t}-${r}',${(r * 7919) % 1000})`);
    lines.push(`INSERT INTO ${table} VALUES ${values.join(",")};`);
  }
  return `${lines.join("\n")}\n`;
}

async function firstQuery(host, port) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const connection = await mysql.createConnection({ host, port, user: "test", password: "test", database: "test" });
      const [rows] = await connection.query(`SELECT COUNT(*) AS n FROM t${TABLES}`);
      await connection.end();
      if (rows[0].n !== ROWS_PER_TABLE) throw new Error(`seed rows missing: ${rows[0].n}`);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function removeWarmCache(prefix) {
  const { stdout } = await run("docker", ["images", "--filter", `label=${WARM_LABEL}`, "--format", "{{.ID}} {{.Repository}}"]);
  const ids = stdout
    .split("\n")
    .filter((line) => line.split(" ")[1]?.startsWith(prefix))
    .map((line) => line.split(" ")[0]);
  if (ids.length > 0) await run("docker", ["rmi", "-f", ...new Set(ids)]);
}

async function cliSample(dir) {
  const t0 = performance.now();
  const env = Object.entries(MYSQL_ENV).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const { stdout } = await run("docker", [
    "run",
    "-d",
    ...env,
    "-v",
    `${dir}:/docker-entrypoint-initdb.d:ro`,
    "-p",
    `127.0.0.1::${MYSQL_PORT}`,
    MYSQL_IMAGE,
  ]);
  const id = stdout.trim();
  try {
    const port = Number((await run("docker", ["port", id, `${MYSQL_PORT}/tcp`])).stdout.trim().split("\n")[0].split(":").at(-1));
    await firstQuery("127.0.0.1", port);
    return performance.now() - t0;
  } finally {
    await run("docker", ["rm", "-f", "-v", id]);
  }
}

async function tcSample(file) {
  const t0 = performance.now();
  const container = await new TcGenericContainer(MYSQL_IMAGE)
    .withExposedPorts(MYSQL_PORT)
    .withEnvironment(MYSQL_ENV)
    .withCopyFilesToContainer([{ source: file, target: "/docker-entrypoint-initdb.d/seed.sql" }])
    .withStartupTimeout(120_000)
    .start();
  try {
    await firstQuery(container.getHost(), container.getMappedPort(MYSQL_PORT));
    return performance.now() - t0;
  } finally {
    await container.stop();
  }
}

async function throwawaySample(file, { warm = false, tmpfs = false } = {}) {
  const t0 = performance.now();
  const builder = new MySqlContainer().withInitScripts(file);
  if (warm) builder.withWarmStart();
  if (tmpfs) builder.withTmpFs({ "/var/lib/mysql": "rw" });
  const container = await builder.start();
  try {
    const rows = await container.executeQuery(`SELECT COUNT(*) AS n FROM t${TABLES}`);
    if (rows[0].n !== ROWS_PER_TABLE) throw new Error(`seed rows missing: ${rows[0].n}`);
    return performance.now() - t0;
  } finally {
    await container.stop();
  }
}

/** A generic image with a slow first run: 2 s of work unless /marker exists, then an HTTP server. */
async function genericSample(token, warm) {
  const t0 = performance.now();
  const builder = new GenericContainer("busybox:latest")
    .withEnvironment({ BENCH_TOKEN: token })
    .withCommand(["sh", "-c", "[ -f /marker ] || { sleep 2; touch /marker; }; echo up > /index.html; exec httpd -f -p 8080 -h /"])
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp("/", 8080));
  if (warm) builder.withWarmStart();
  const container = await builder.start();
  const ms = performance.now() - t0;
  await container.stop();
  return ms;
}

const token = `${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), "bench-warm-"));
const file = join(dir, "seed.sql");
writeFileSync(file, seedScript(token));
const results = {};
const record = (name, ms) => {
  (results[name] ??= []).push(ms);
  process.stderr.write(`${name}: ${Math.round(ms)} ms\n`);
};
try {
  for (let i = 0; i < SAMPLES; i++) {
    record("mysql cli docker run", await cliSample(dir));
    record("mysql testcontainers", await tcSample(file));
    record("mysql throwaway cold", await throwawaySample(file));
    record("mysql throwaway cold+tmpfs", await throwawaySample(file, { tmpfs: true }));
    await removeWarmCache("localhost/throwaway-warm/mysql");
    record("mysql throwaway warm-fill (first start)", await throwawaySample(file, { warm: true }));
    record("mysql throwaway warm", await throwawaySample(file, { warm: true }));
    record("generic cold", await genericSample(`${token}-${i}-plain`, false));
    record("generic warm-fill (first start)", await genericSample(`${token}-${i}`, true));
    record("generic warm", await genericSample(`${token}-${i}`, true));
  }
} finally {
  await removeWarmCache("localhost/throwaway-warm/");
  rmSync(dir, { recursive: true, force: true });
}
const summary = Object.fromEntries(Object.entries(results).map(([name, values]) => [name, summarize(values)]));
const base = summary["mysql cli docker run"]?.median;
for (const [name, stat] of Object.entries(summary)) {
  const vsCli = name.startsWith("mysql") && base ? ` (${(stat.median / base).toFixed(2)}x cli)` : "";
  console.log(
    `${name.padEnd(42)} median ${Math.round(stat.median)} ms  min ${Math.round(stat.min)}  max ${Math.round(stat.max)}  n=${stat.n}${vsCli}`,
  );
}
