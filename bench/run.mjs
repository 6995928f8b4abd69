#!/usr/bin/env node
// `npm run bench`: throwaway side by side with testcontainers and the docker CLI. See bench/README.md.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_LABEL, BUSYBOX_IMAGE, MYSQL_IMAGE, NODE_IMAGE, usersServiceTag } from "./lib/config.mjs";
import { docker, imageId, removeResources, resourcesWithLabel } from "./lib/docker.mjs";
import { machineFacts, processesOfSessions, versions } from "./lib/machine.mjs";
import { ensureNode22 } from "./lib/node22.mjs";
import { POLL_INTERVAL_MS } from "./lib/probe.mjs";
import { startCountingProxy } from "./lib/proxy.mjs";
import { writeReadme } from "./lib/readme.mjs";
import { consoleTable } from "./lib/report.mjs";
import { runFresh, SideWorker } from "./lib/runner.mjs";
import { formatValue } from "./lib/stats.mjs";
import { WORKLOADS } from "./lib/workloads.mjs";

const RESULTS = fileURLToPath(new URL("./results/latest.json", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

const HELP = `npm run bench [-- options]

  --quick            fewer samples (finishes in under 3 minutes)
  --only a,b         run only these workloads (${WORKLOADS.map((w) => w.id).join(", ")})
  --samples N        samples per variant (after the warm-up round), overriding each workload's own
  --write-readme     no run: regenerate bench/README.md's results and bench/results/ratios.svg from
                     bench/results/latest.json (refuses a quick or partial run unless --force)
  --help

Environment: THROWAWAY_BENCH_NODE=/path/to/node (Node >= 22.22) instead of the npm-installed Node 22.`;

function parseArgs(argv) {
  const args = { quick: false, only: undefined, samples: undefined, writeReadme: false, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--write-readme") args.writeReadme = true;
    else if (a === "--force") args.force = true;
    else if (a === "--only") args.only = argv[++i]?.split(",").filter(Boolean);
    else if (a === "--samples") args.samples = Number(argv[++i]);
    else if (a === "--help" || a === "-h") args.help = true;
    else throw new Error(`unknown option ${a}\n\n${HELP}`);
  }
  if (args.samples !== undefined && (!Number.isInteger(args.samples) || args.samples < 1)) {
    throw new Error(`--samples takes a whole number >= 1, got ${argv[argv.indexOf("--samples") + 1]}`);
  }
  const unknown = args.only?.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown?.length) throw new Error(`--only: no workload ${unknown.join(", ")} (known: ${WORKLOADS.map((w) => w.id).join(", ")})`);
  return args;
}

const log = (line) => process.stderr.write(`${line}\n`);

/** The environment of every child: the caller's, minus anything that would change how a side behaves. */
function baseEnv(runId) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(TESTCONTAINERS_|THROWAWAY_)/.test(key) || ["DEBUG", "NODE_DEBUG", "NODE_OPTIONS", "DOCKER_BUILDKIT"].includes(key)) {
      delete env[key];
    }
  }
  env.THROWAWAY_BENCH_RUN = runId;
  return env;
}

/** Exactly what each side is given (recorded in the results and the README). */
function sideSettings(sessionId) {
  return {
    throwaway: { THROWAWAY_REAPER: "off", THROWAWAY_SESSION_ID: sessionId },
    testcontainers: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
    cli: {},
  };
}

function short(values) {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${formatValue(v, k === "rss" ? "MiB" : /calls|Start|Stop/i.test(k) && Number.isInteger(v) ? "calls" : "ms")}`)
    .join(" ");
}

async function checkPrerequisites() {
  const missing = [];
  for (const image of [BUSYBOX_IMAGE, MYSQL_IMAGE, NODE_IMAGE]) if (!(await imageId(image))) missing.push(image);
  if (missing.length) {
    throw new Error(
      `images missing on the engine: ${missing.join(", ")}: run \`bash scripts/engine.sh ensure\` (npm run bench does it first)`,
    );
  }
  if (!existsSync(DIST)) throw new Error("dist/ is missing: run `npm run build` (npm run bench does it first)");
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  if (args.writeReadme) {
    if (!existsSync(RESULTS)) throw new Error("bench/results/latest.json does not exist: run `npm run bench` first");
    const results = JSON.parse(readFileSync(RESULTS, "utf8"));
    if ((results.mode !== "full" || results.partial) && !args.force) {
      throw new Error(
        `bench/results/latest.json holds a ${results.partial ? "partial" : results.mode} run: the README records full runs (add --force to write it anyway)`,
      );
    }
    const written = writeReadme(results);
    log(`wrote ${written.join(" and ")}`);
    return 0;
  }

  await checkPrerequisites();
  const node = ensureNode22(log);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const sessionId = `bench-${runId}`;
  const env = baseEnv(runId);
  const settings = sideSettings(sessionId);
  const mode = args.quick ? "quick" : "full";
  const selected = WORKLOADS.filter((w) => !args.only || args.only.includes(w.id));
  const started = new Date();
  log(`bench run ${runId} (${mode}) on Node ${node.version}: ${selected.map((w) => w.id).join(", ")}`);

  const results = {
    schema: 1,
    runId,
    mode,
    partial: Boolean(args.only) || args.samples !== undefined,
    startedAt: started.toISOString(),
    finishedAt: undefined,
    machine: await machineFacts(),
    versions: versions(node),
    settings: {
      sides: settings,
      removedFromEnvironment: "every TESTCONTAINERS_* and THROWAWAY_* variable, DEBUG, NODE_DEBUG, NODE_OPTIONS, DOCKER_BUILDKIT",
      images: {
        [BUSYBOX_IMAGE]: await imageId(BUSYBOX_IMAGE),
        [MYSQL_IMAGE]: await imageId(MYSQL_IMAGE),
        [NODE_IMAGE]: await imageId(NODE_IMAGE),
      },
      pullPolicy: "never pull a present image (both libraries' default; the CLI's docker run default)",
      cliPollIntervalMs: POLL_INTERVAL_MS,
      order:
        "interleaved: for each round, every variant in turn (throwaway, testcontainers, CLI); round 0 is a discarded warm-up (quick runs: only for workers that have not run yet)",
      builder: "the classic builder for every side (DOCKER_BUILDKIT unset; neither library asks for BuildKit)",
      peerNotes: [
        "Ryuk disabled because throwaway's reaper is off in the side-by-side workloads (workload 7 measures ours on vs off).",
        "TESTCONTAINERS_HOST_OVERRIDE=localhost: without it testcontainers runs alpine:3.14 to find the gateway (this machine has /.dockerenv).",
        "MySQL on the peer: GenericContainer configured as @testcontainers/mysql's MySqlContainer does (that package is not installed).",
      ],
    },
    workloads: [],
    leftovers: undefined,
  };

  const workers = new Map();
  const proxies = new Map();
  const dockerHost = process.env.DOCKER_HOST?.trim();
  const upstream = !dockerHost ? "/var/run/docker.sock" : dockerHost.startsWith("unix://") ? dockerHost.slice(7) : undefined;
  const proxyDir = join(tmpdir(), `throwaway-bench-${runId}`);
  const cleanup = async () => {
    await Promise.all([...workers.values()].map((w) => w.stop()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    rmSync(proxyDir, { recursive: true, force: true });
  };
  const onSignal = async () => {
    log("interrupted: stopping workers and removing what the bench created");
    await cleanup();
    await removeResources(await resourcesWithLabel(`${BENCH_LABEL}=${runId}`));
    const tags = ["throwaway", "testcontainers", "cli"].map((side) => usersServiceTag(runId, side));
    await docker(["rmi", "-f", ...tags]).catch(() => {});
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const envFor = (variant, sampleNo) => {
    const e = { ...env, ...settings[variant.side], ...(variant.env ?? {}) };
    if (variant.ownSession) e.THROWAWAY_SESSION_ID = `${sessionId}-${variant.key}-${sampleNo}`;
    return e;
  };
  const workerFor = (side) => {
    let worker = workers.get(side);
    if (!worker) {
      worker = new SideWorker(side, { ...env, ...settings[side] }, node.path);
      workers.set(side, worker);
    }
    return worker;
  };
  const proxyFor = async (side) => {
    if (!upstream) return undefined;
    let proxy = proxies.get(side);
    if (!proxy) {
      mkdirSync(proxyDir, { recursive: true });
      proxy = await startCountingProxy(join(proxyDir, `${side}.sock`), upstream);
      proxies.set(side, proxy);
    }
    return proxy;
  };

  let failures = 0;
  try {
    for (const workload of selected) {
      const samples = args.samples ?? workload.samples[mode];
      // The warm-up round warms a process (module loading, JIT, engine discovery, pools). A full run always discards
      // one; a quick run only where a side's worker has not run anything yet (fresh processes are cold by design).
      const warmup = mode === "full" || (workload.mode === "worker" && workload.variants.some((v) => !workers.has(v.side)));
      const workloadStarted = performance.now();
      const entry = {
        id: workload.id,
        number: workload.number,
        title: workload.title,
        mode: workload.mode,
        variants: workload.variants.map(({ key, side, column, env: e }) => ({ key, side, column, env: e ?? {} })),
        samplesPerVariant: samples,
        warmupRounds: warmup ? 1 : 0,
        skipped: {},
        samples: [],
        leaked: undefined,
      };
      results.workloads.push(entry);
      log(`\n${workload.number}. ${workload.title}`);
      for (const variant of workload.variants) {
        const reason = await variant.skipUnless?.();
        if (reason) {
          entry.skipped[variant.key] = reason;
          log(`  ${variant.key}: skipped: ${reason}`);
        }
      }
      let sampleNo = 0;
      for (let round = warmup ? 0 : 1; round <= samples; round++) {
        for (const variant of workload.variants) {
          if (entry.skipped[variant.key]) continue;
          sampleNo++;
          const outcome = await runSample(workload, variant, { envFor, workerFor, proxyFor, sampleNo, node });
          const sample = { round, variant: variant.key, warmup: round === 0, ...outcome };
          entry.samples.push(sample);
          if (outcome.skip) {
            entry.skipped[variant.key] = outcome.error;
            log(`  ${variant.key}: skipped: ${outcome.error}`);
          } else if (!outcome.ok) {
            failures++;
            log(`  r${round} ${variant.key}: FAILED: ${outcome.error}`);
          } else {
            log(`  r${round}${round === 0 ? " (warm-up)" : ""} ${variant.key}: ${short(outcome.values)}`);
          }
        }
      }
      entry.durationMs = Math.round(performance.now() - workloadStarted);
      log(`  (${(entry.durationMs / 1000).toFixed(1)} s)`);
      // Each side cleans up after every sample; anything left now is a leak by that side, and is reported.
      const left = await resourcesWithLabel(`${BENCH_LABEL}=${runId}`);
      if (left.containers.length + left.networks.length + left.volumes.length + left.images.length > 0) {
        entry.leaked = left;
        log(`  LEFT BEHIND after ${workload.id}: ${JSON.stringify(left)}`);
        await removeResources(left);
      }
    }
  } finally {
    await cleanup();
  }

  // The bench's own assertion: nothing of this run remains on the engine.
  const leftovers = await resourcesWithLabel(`${BENCH_LABEL}=${runId}`);
  const images = [];
  for (const side of ["throwaway", "testcontainers", "cli"]) {
    const tag = usersServiceTag(runId, side);
    if (await imageId(tag)) images.push(tag);
  }
  leftovers.images.push(...images);
  const sessionContainers = (await docker(["ps", "-aq", "--filter", `label=dev.throwaway.session-id=${sessionId}`]))
    .split("\n")
    .filter(Boolean);
  leftovers.containers.push(...sessionContainers.filter((id) => !leftovers.containers.includes(id)));
  // The reaper's watchdogs of workload 7's sessions exit by themselves about a second after their process; give
  // them a moment, then any still running is a leak too.
  let processes = processesOfSessions(sessionId);
  for (let i = 0; i < 50 && processes.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    processes = processesOfSessions(sessionId);
  }
  leftovers.processes = processes;
  const leakedDuring = results.workloads.filter((w) => w.leaked).map((w) => w.id);
  results.leftovers = { atEnd: leftovers, leakedDuring };
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started.getTime();
  results.machine.loadAverageAtEnd = loadavg();
  mkdirSync(fileURLToPath(new URL("./results/", import.meta.url)), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  console.log(
    `\nthrowaway ${results.versions.throwaway} (${results.versions.throwawayCommit}) vs testcontainers ${results.versions.testcontainers} vs docker CLI ${results.machine.docker.client}, all on Node ${node.version}`,
  );
  console.log(
    `${results.machine.cores} cores, ${(results.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, kernel ${results.machine.kernel}, Docker ${results.machine.docker.server} (API ${results.machine.docker.api}); ${mode} run, medians [min-max]\n`,
  );
  console.log(consoleTable(results));
  console.log(
    `\nresults: bench/results/latest.json${mode === "full" && !results.partial ? "; record them in bench/README.md with `npm run bench -- --write-readme`" : ""}`,
  );

  let code = 0;
  const anyLeft = Object.values(leftovers).some((list) => list.length > 0);
  if (anyLeft || leakedDuring.length) {
    console.error(
      `\nFAIL: the bench left resources behind${leakedDuring.length ? ` (during: ${leakedDuring.join(", ")})` : ""}: ${JSON.stringify(leftovers)}`,
    );
    await removeResources(leftovers);
    for (const line of leftovers.processes) process.kill(Number(line.split(" ")[0]), "SIGTERM");
    code = 1;
  }
  if (failures > 0) {
    console.error(`\nFAIL: ${failures} sample(s) failed (see above and bench/results/latest.json)`);
    code = 1;
  }
  return code;
}

/** One sample of one variant, however the workload runs its samples. */
async function runSample(workload, variant, { envFor, workerFor, proxyFor, sampleNo, node }) {
  if (workload.mode === "worker") {
    const reply = await workerFor(variant.side).run(workload.sample, workload.params ?? {}, workload.timeoutMs);
    return reply.ok
      ? { ok: true, values: reply.result.values, info: reply.result.info }
      : { ok: false, skip: reply.skip, error: reply.error };
  }
  if (workload.mode === "fresh") {
    const script = variant.script ?? workload.script;
    const run = await runFresh({
      script,
      args: [variant.side],
      env: envFor(variant, sampleNo),
      nodePath: node.path,
      timeoutMs: workload.timeoutMs,
    });
    if (!run.ok || !run.result) return { ok: false, error: run.error ?? `${script} printed no result` };
    return { ok: true, values: { wall: run.wallMs, ...run.result.values }, info: run.result.info };
  }
  // api: a fresh process whose DOCKER_HOST is this side's counting proxy; it asks for a mark between phases.
  const proxy = await proxyFor(variant.side);
  if (!proxy)
    return { ok: false, skip: true, error: `the counting proxy fronts a unix socket only, and DOCKER_HOST is ${process.env.DOCKER_HOST}` };
  const marks = {};
  const run = await runFresh({
    script: "api-calls",
    args: [variant.side],
    env: { ...envFor(variant, sampleNo), DOCKER_HOST: `unix://${proxy.socketPath}` },
    nodePath: node.path,
    timeoutMs: workload.timeoutMs,
    onMessage: (message, reply) => {
      if (message?.mark) {
        marks[message.mark] = proxy.mark();
        reply({ markId: message.markId });
      }
    },
  });
  if (!run.ok) return { ok: false, error: run.error };
  const span = (from, to) => proxy.between(marks[from], marks[to]);
  const calls = {
    firstStart: span("first:start", "first:started"),
    warmStart: span("warm:start", "warm:started"),
    warmStop: span("warm:started", "warm:stopped"),
  };
  const own = run.messages.find((m) => m?.done)?.own;
  return {
    ok: true,
    values: { firstStart: calls.firstStart.length, warmStart: calls.warmStart.length, warmStop: calls.warmStop.length },
    info: { calls, ...(own ? { ownCount: own } : {}) },
  };
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
