import { imageId } from "./docker.mjs";
import { summarize } from "./stats.mjs";

/**
 * The workloads of issue 10, each run on every side it applies to. A workload says how its samples run
 * (`worker`: in a warm side process; `fresh`: one new process per sample; `api`: a new process behind the counting
 * proxy), how many samples it takes, and which table lines it yields from its summary.
 *
 * Table lines put throwaway, testcontainers and the CLI in fixed columns; ratios are always throwaway's median over
 * the other column's median (below 1 means throwaway is faster, or uses less).
 */

/** The testcontainers Ryuk image its reaper needs; not present offline, so the peer's reaper-on variant skips. */
export const RYUK_IMAGE = "testcontainers/ryuk:0.14.0";

const STANDARD = [
  { key: "throwaway", side: "throwaway", column: "throwaway" },
  { key: "testcontainers", side: "testcontainers", column: "testcontainers" },
  { key: "cli", side: "cli", column: "cli" },
];

/**
 * The cells of one metric: `{ throwaway, testcontainers, cli }` stats from the variants mapped to those columns.
 * @param {Record<string, Record<string, any>>} s summary: variant -> metric -> stat
 * @param {string} metric
 * @param {Record<string, string>} [from] column -> variant key (default: the column's own name)
 */
function cells(s, metric, from = {}) {
  const out = {};
  for (const column of ["throwaway", "testcontainers", "cli"]) {
    const variant = from[column] ?? column;
    out[column] = s[variant]?.skipped ? { skipped: s[variant].skipped } : s[variant]?.[metric];
  }
  return out;
}

/** RSS growth over bare Node: each sample minus the bare process's median. */
function growth(samplesByVariant, baseline) {
  const out = {};
  for (const column of ["throwaway", "testcontainers", "cli"]) {
    const values = samplesByVariant[column]?.map((v) => v.rss).filter((v) => Number.isFinite(v)) ?? [];
    out[column] = baseline && values.length ? summarize(values.map((v) => v - baseline.median)) : undefined;
  }
  return out;
}

export const WORKLOADS = [
  {
    id: "busybox",
    number: "1",
    title: "busybox httpd with a port wait: start to first successful request; stop and remove",
    mode: "worker",
    sample: "busybox",
    variants: STANDARD,
    samples: { full: 7, quick: 2 },
    timeoutMs: 120_000,
    lines: (s) => [
      {
        label: "busybox: start to first request",
        unit: "ms",
        cells: cells(s, "start"),
        targets: [
          { kind: "ratio", against: "testcontainers", max: 0.7 },
          { kind: "ratio", against: "cli", max: 1.0 },
        ],
      },
      { label: "busybox: stop and remove", unit: "ms", cells: cells(s, "stop") },
    ],
  },
  {
    id: "mysql",
    number: "2, 3",
    title: "MySQL 5.7 stand-in: start to first SELECT 1 (mysql2); snapshot and restore where the side has them; stop and remove",
    mode: "worker",
    sample: "mysql",
    variants: STANDARD,
    samples: { full: 5, quick: 2 },
    timeoutMs: 300_000,
    lines: (s) => [
      {
        number: "2",
        label: "MySQL: start to first SELECT 1",
        unit: "ms",
        cells: cells(s, "start"),
        targets: [{ kind: "ratio", against: "cli", max: 1.02 }],
      },
      { number: "2", label: "MySQL: stop and remove", unit: "ms", cells: cells(s, "stop") },
      {
        number: "3",
        label: "MySQL: throwaway restore() to first query, vs fresh start",
        unit: "ms",
        cells: {
          throwaway: s.throwaway?.skipped
            ? { skipped: s.throwaway.skipped }
            : (s.throwaway?.restore ?? { skipped: "no snapshot()/restore() yet" }),
          testcontainers: s.testcontainers?.skipped ? { skipped: s.testcontainers.skipped } : s.testcontainers?.start,
          cli: s.cli?.skipped ? { skipped: s.cli.skipped } : s.cli?.start,
        },
        note: "the other columns are each side's fresh start to first SELECT 1 (the peer has no snapshot)",
        ownRatio:
          s.throwaway?.restore && s.throwaway?.start
            ? { label: "restore / own fresh start", num: s.throwaway.restore, den: s.throwaway.start }
            : undefined,
      },
    ],
  },
  {
    id: "build",
    number: "4",
    title: "fromDockerfile build of the users-service example: cold (--no-cache), then unchanged rebuild",
    mode: "worker",
    sample: "build",
    variants: STANDARD,
    samples: { full: 5, quick: 2 },
    timeoutMs: 600_000,
    lines: (s) => [
      { label: "build users-service: cold (no cache)", unit: "ms", cells: cells(s, "cold") },
      {
        label: "build users-service: unchanged rebuild",
        unit: "ms",
        cells: cells(s, "rebuild"),
        targets: [{ kind: "ratio", against: "testcontainers", max: 0.1, text: ">= 10x faster than testcontainers" }],
      },
    ],
  },
  {
    id: "parallel",
    number: "5",
    title: "ten busybox httpd started in parallel: to the last first request; then all stopped and removed",
    mode: "worker",
    sample: "parallel",
    variants: STANDARD,
    samples: { full: 5, quick: 1 },
    timeoutMs: 180_000,
    lines: (s) => [
      {
        label: "10 in parallel: start to all first requests",
        unit: "ms",
        cells: cells(s, "start"),
        targets: [{ kind: "ratio", against: "cli", max: 1.0 }],
      },
      { label: "10 in parallel: stop and remove all", unit: "ms", cells: cells(s, "stop") },
    ],
  },
  {
    id: "readiness-port",
    number: "6",
    title: "readiness detection latency, port wait: from the service listening to start() returning",
    mode: "worker",
    sample: "readiness",
    params: { kind: "port" },
    variants: STANDARD,
    samples: { full: 7, quick: 2 },
    timeoutMs: 120_000,
    lines: (s) => [
      {
        label: "readiness latency: port wait",
        unit: "ms",
        cells: cells(s, "latency"),
        // Issue 14: wherever the port wait cannot read the container's network namespace, it must still notice
        // readiness about as fast as the CLI's 2 ms polling loop.
        targets: [{ kind: "difference", against: "cli", max: 20, text: "within 20 ms of the CLI's loop" }],
      },
    ],
  },
  {
    id: "readiness-log",
    number: "6",
    title: "readiness detection latency, log wait: from the line being logged to start() returning",
    mode: "worker",
    sample: "readiness",
    params: { kind: "log" },
    variants: STANDARD,
    samples: { full: 7, quick: 2 },
    timeoutMs: 120_000,
    lines: (s) => [{ label: "readiness latency: log wait", unit: "ms", cells: cells(s, "latency") }],
  },
  {
    id: "reaper",
    number: "7",
    title: "first container start in a fresh process (to first request), reaper on vs off",
    mode: "fresh",
    script: "start-once",
    variants: [
      { key: "throwaway-on", side: "throwaway", column: "throwaway", env: { THROWAWAY_REAPER: "on" }, ownSession: true },
      { key: "throwaway-off", side: "throwaway", column: "throwaway", env: { THROWAWAY_REAPER: "off" }, ownSession: true },
      {
        key: "testcontainers-on",
        side: "testcontainers",
        column: "testcontainers",
        env: { TESTCONTAINERS_RYUK_DISABLED: "false" },
        skipUnless: async () =>
          (await imageId(RYUK_IMAGE))
            ? undefined
            : `Ryuk cannot run here: ${RYUK_IMAGE} is not on the engine and no registry is reachable to pull it`,
      },
      { key: "testcontainers-off", side: "testcontainers", column: "testcontainers" },
    ],
    samples: { full: 7, quick: 2 },
    timeoutMs: 120_000,
    lines: (s) => [
      {
        label: "first start in a process, reaper off (Ryuk off)",
        unit: "ms",
        cells: cells(s, "start", { throwaway: "throwaway-off", testcontainers: "testcontainers-off", cli: "-" }),
      },
      {
        label: "first start in a process, reaper on (Ryuk on)",
        unit: "ms",
        cells: cells(s, "start", { throwaway: "throwaway-on", testcontainers: "testcontainers-on", cli: "-" }),
        ownRatio:
          s["throwaway-on"]?.start && s["throwaway-off"]?.start
            ? { label: "throwaway reaper on / off", num: s["throwaway-on"].start, den: s["throwaway-off"].start }
            : undefined,
      },
    ],
  },
  {
    id: "process",
    number: "8",
    title: "fresh process: import, start one busybox (port wait), first request, stop, exit; peak RSS",
    mode: "fresh",
    script: "start-once",
    variants: [...STANDARD, { key: "node", side: "cli", column: "baseline", script: "bare" }],
    samples: { full: 7, quick: 2 },
    timeoutMs: 120_000,
    lines: (s, samplesByVariant) => [
      {
        label: "fresh process: import + start + request + stop + exit",
        unit: "ms",
        cells: cells(s, "wall"),
        note: s.node?.wall ? `bare Node process: ${Math.round(s.node.wall.median)} ms` : undefined,
      },
      {
        label: "import of the library",
        unit: "ms",
        cells: { ...cells(s, "import"), cli: undefined },
        targets: [{ kind: "value", max: 60, strict: true, text: "< 60 ms" }],
      },
      { label: "first start in a process (to first request)", unit: "ms", cells: cells(s, "start") },
      {
        label: "peak RSS of the test process",
        unit: "MiB",
        cells: cells(s, "rss"),
        note: s.node?.rss ? `bare Node: ${s.node.rss.median.toFixed(1)} MiB; CLI column: the Node process driving docker` : undefined,
      },
      {
        label: "RSS growth over bare Node",
        unit: "MiB",
        cells: growth(samplesByVariant, s.node?.rss),
        targets: [{ kind: "ratio", against: "testcontainers", max: 0.25, text: "<= 1/4 of testcontainers'" }],
      },
    ],
  },
  {
    id: "parallel-rss",
    number: "5",
    title: "ten busybox httpd started at once in a fresh process (port wait, first requests, all stopped); peak RSS",
    mode: "fresh",
    script: "parallel-once",
    variants: [...STANDARD, { key: "node", side: "cli", column: "baseline", script: "bare" }],
    samples: { full: 7, quick: 2 },
    timeoutMs: 180_000,
    lines: (s, samplesByVariant) => [
      {
        label: "10 at once: peak RSS of the test process",
        unit: "MiB",
        cells: cells(s, "rss"),
        note: s.node?.rss ? `bare Node: ${s.node.rss.median.toFixed(1)} MiB; CLI column: the Node process driving docker` : undefined,
      },
      {
        label: "10 at once: RSS growth over bare Node",
        unit: "MiB",
        cells: growth(samplesByVariant, s.node?.rss),
        // Issue 19: starting containers side by side may cost a test process a little memory, not a second Node.
        targets: [{ kind: "value", max: 12, text: "<= +12 MiB" }],
      },
    ],
  },
  {
    id: "api-calls",
    number: "8",
    title: "Engine API calls per container start, counted on a proxy in front of the engine's socket (DOCKER_HOST)",
    mode: "api",
    variants: STANDARD,
    samples: { full: 3, quick: 1 },
    timeoutMs: 120_000,
    lines: (s) => [
      { label: "API calls: first start in a process", unit: "calls", cells: cells(s, "firstStart") },
      {
        label: "API calls: each later start",
        unit: "calls",
        cells: cells(s, "warmStart"),
        targets: [{ kind: "value", max: 5, text: "<= 5 calls" }],
      },
      { label: "API calls: stop and remove", unit: "calls", cells: cells(s, "warmStop") },
    ],
  },
];
