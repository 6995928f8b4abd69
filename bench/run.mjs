#!/usr/bin/env node
// `npm run bench`: throwaway side by side with testcontainers and the docker CLI. See bench/README.md.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { engineRunArgs, HELP, parseArgs, selectedWorkloadIds } from "./lib/args.mjs";
import { BENCH_LABEL, BUSYBOX_IMAGE, MYSQL_IMAGE, NODE_IMAGE, usersServiceTag } from "./lib/config.mjs";
import { docker, imageId, removeResources, resourcesWithLabel } from "./lib/docker.mjs";
import { ENGINE_VARIABLES, engineEnvironment, engineNotes, engineProfile, engineSideSettings, ensureEngine } from "./lib/engines.mjs";
import { machineFacts, processesOfSessions, versions } from "./lib/machine.mjs";
import { ensureNode22 } from "./lib/node22.mjs";
import { POLL_INTERVAL_MS } from "./lib/probe.mjs";
import { startCountingProxy } from "./lib/proxy.mjs";
import { writeEngineReadme, writeReadme } from "./lib/readme.mjs";
import { consoleTable } from "./lib/report.mjs";
import { runFresh, SideWorker } from "./lib/runner.mjs";
import { formatValue } from "./lib/stats.mjs";
import { WORKLOADS } from "./lib/workloads.mjs";

const RESULTS = fileURLToPath(new URL("./results/latest.json", import.meta.url));
/** @param {string} engine */
const engineResults = (engine) => fileURLToPath(new URL(`./results/engine-${engine}.json`, import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

const log = (line) => process.stderr.write(`${line}\n`);

/** The environment of every child: the caller's, minus anything that would change how a side behaves. */
function baseEnv(runId, profile) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(TESTCONTAINERS_|THROWAWAY_)/.test(key) || ["DEBUG", "NODE_DEBUG", "NODE_OPTIONS", "DOCKER_BUILDKIT"].includes(key)) {
      delete env[key];
    }
  }
  env.THROWAWAY_BENCH_RUN = runId;
  if (profile) env.THROWAWAY_BENCH_ENGINE = profile.name;
  // Where the CLI side publishes and connects (a remote engine's 127.0.0.1 is not ours); unset on the local engine.
  if (profile && !profile.local) {
    env.THROWAWAY_BENCH_PUBLISH = "all";
    env.THROWAWAY_BENCH_HOST = profile.address;
  }
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

/**
 * @param {string} [engine] an engine run needs only the images its workloads use (the build workload's base image is
 *   node's); the local run checks all three, as before
 * @param {string[]} ids the workloads that will run
 */
async function checkPrerequisites(engine, ids) {
  const missing = [];
  const needed = !engine
    ? [BUSYBOX_IMAGE, MYSQL_IMAGE, NODE_IMAGE]
    : [BUSYBOX_IMAGE, ...(ids.includes("mysql") ? [MYSQL_IMAGE] : []), ...(ids.includes("build") ? [NODE_IMAGE] : [])];
  for (const image of needed) if (!(await imageId(image))) missing.push(image);
  if (missing.length) {
    throw new Error(
      engine
        ? `images missing on engine ${engine}: ${missing.join(", ")}: run \`bash scripts/engine.sh ensure ${engine}\``
        : `images missing on the engine: ${missing.join(", ")}: run \`bash scripts/engine.sh ensure\` (npm run bench does it first)`,
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
  if (args.writeReadme && args.engines) {
    const all = args.engines.map((engine) => {
      const file = engineResults(engine);
      if (!existsSync(file))
        throw new Error(`bench/results/engine-${engine}.json does not exist: run \`npm run bench -- --engine ${engine}\` first`);
      const results = JSON.parse(readFileSync(file, "utf8"));
      if ((results.mode !== "full" || results.partial) && !args.force) {
        throw new Error(
          `bench/results/engine-${engine}.json holds a ${results.partial ? "partial" : results.mode} run: the README records full runs (add --force to write it anyway)`,
        );
      }
      return results;
    });
    log(`wrote ${writeEngineReadme(all).join(" and ")}`);
    return 0;
  }
  if (args.engines && args.engines.length > 1) return runEngines(args);
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

  // An engine run points this process (the bench's own docker calls: images, log timestamps, leftovers) and every
  // side at the engine, so the leftovers check looks at the engine the run used.
  const engineName = args.engines?.[0];
  let profile;
  if (engineName) {
    const lines = args.dockerHost ? { DOCKER_HOST: args.dockerHost } : await ensureEngine(engineName, log);
    profile = engineProfile(engineName, lines);
    const env = engineEnvironment(process.env, profile.env);
    for (const key of ENGINE_VARIABLES) delete process.env[key];
    Object.assign(process.env, env);
  }
  const resultsPath = engineName ? engineResults(engineName) : RESULTS;

  await checkPrerequisites(engineName, selectedWorkloadIds(args));
  const node = ensureNode22(log);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const sessionId = `bench-${runId}`;
  const env = baseEnv(runId, profile);
  const settings = profile ? engineSideSettings(profile, sideSettings(sessionId)) : sideSettings(sessionId);
  const mode = args.quick ? "quick" : "full";
  const selectedIds = selectedWorkloadIds(args);
  const selected = WORKLOADS.filter((w) => selectedIds.includes(w.id));
  const started = new Date();
  log(
    `bench run ${runId} (${mode}) on Node ${node.version}${profile ? `, engine ${profile.name} (${profile.dockerHost})` : ""}: ${selected.map((w) => w.id).join(", ")}`,
  );

  const results = {
    schema: 1,
    runId,
    mode,
    partial: Boolean(args.only) || args.samples !== undefined,
    startedAt: started.toISOString(),
    finishedAt: undefined,
    machine: await machineFacts({ localEngine: !profile }),
    engine: profile
      ? {
          name: profile.name,
          dockerHost: profile.dockerHost,
          provisionedBy: args.dockerHost
            ? "given with --docker-host (not scripts/engine.sh)"
            : `bash scripts/engine.sh ensure ${profile.name}`,
          tls: profile.tls,
          address: profile.address,
          apiCounts: profile.apiCounts,
          skippedSides: profile.skipSides,
        }
      : undefined,
    versions: versions(node),
    settings: {
      sides: settings,
      removedFromEnvironment: "every TESTCONTAINERS_* and THROWAWAY_* variable, DEBUG, NODE_DEBUG, NODE_OPTIONS, DOCKER_BUILDKIT",
      images: {
        [BUSYBOX_IMAGE]: await imageId(BUSYBOX_IMAGE),
        [MYSQL_IMAGE]: await imageId(MYSQL_IMAGE),
        [NODE_IMAGE]: (await imageId(NODE_IMAGE)) ?? null,
      },
      pullPolicy: "never pull a present image (both libraries' default; the CLI's docker run default)",
      cliPollIntervalMs: POLL_INTERVAL_MS,
      order:
        "interleaved: for each round, every variant in turn (throwaway, testcontainers, CLI); round 0 is a discarded warm-up (quick runs: only for workers that have not run yet)",
      builder: "the classic builder for every side (DOCKER_BUILDKIT unset; neither library asks for BuildKit)",
      peerNotes: [
        "Ryuk disabled because throwaway's reaper is off in the side-by-side workloads (workload 7 measures ours on vs off).",
        ...(settings.testcontainers.TESTCONTAINERS_HOST_OVERRIDE
          ? [
              "TESTCONTAINERS_HOST_OVERRIDE=localhost: without it testcontainers runs alpine:3.14 to find the gateway (this machine has /.dockerenv).",
            ]
          : []),
        "MySQL on the peer: GenericContainer configured as @testcontainers/mysql's MySqlContainer does (that package is not installed).",
      ],
      engineNotes: profile ? engineNotes(profile) : undefined,
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
        const reason = profile?.skipSides[variant.side] ?? (await variant.skipUnless?.());
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
          const outcome = await runSample(workload, variant, { envFor, workerFor, proxyFor, sampleNo, node, profile });
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
      entry.loadAverageAtEnd = loadavg();
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
  results.leftovers = { engine: process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock", atEnd: leftovers, leakedDuring };
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started.getTime();
  results.machine.loadAverageAtEnd = loadavg();
  mkdirSync(fileURLToPath(new URL("./results/", import.meta.url)), { recursive: true });
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

  console.log(
    `\nthrowaway ${results.versions.throwaway} (${results.versions.throwawayCommit}) vs testcontainers ${results.versions.testcontainers} vs docker CLI ${results.machine.docker.client}, all on Node ${node.version}`,
  );
  console.log(
    `${results.machine.cores} cores, ${(results.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, kernel ${results.machine.kernel}, Docker ${results.machine.docker.server} (API ${results.machine.docker.api}); ${mode} run, medians [min-max]\n`,
  );
  console.log(consoleTable(results));
  const written = engineName ? `bench/results/engine-${engineName}.json` : "bench/results/latest.json";
  const record = engineName ? `npm run bench -- --write-readme --engines ${engineName}` : "npm run bench -- --write-readme";
  console.log(`\nresults: ${written}${mode === "full" && !results.partial ? `; record them in bench/README.md with \`${record}\`` : ""}`);

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
    console.error(`\nFAIL: ${failures} sample(s) failed (see above and ${written})`);
    code = 1;
  }
  return code;
}

/** One sample of one variant, however the workload runs its samples. */
async function runSample(workload, variant, { envFor, workerFor, proxyFor, sampleNo, node, profile }) {
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
  if (!proxy) {
    if (profile && !profile.local && variant.side === "throwaway") return ownApiCalls(workload, variant, { envFor, sampleNo, node });
    const why =
      profile && !profile.local
        ? profile.apiSkip
        : `the counting proxy fronts a unix socket only, and DOCKER_HOST is ${process.env.DOCKER_HOST}`;
    return { ok: false, skip: true, error: why };
  }
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

/**
 * API calls by throwaway's own counter (`engine.apiCalls`), where no proxy can stand in front of the engine (TLS,
 * ssh). The same fresh script and phases as behind the proxy; the discovery ping is not in its first start.
 */
async function ownApiCalls(workload, variant, { envFor, sampleNo, node }) {
  const run = await runFresh({
    script: "api-calls",
    args: [variant.side],
    env: { ...envFor(variant, sampleNo), THROWAWAY_BENCH_OWN_COUNT: "1" },
    nodePath: node.path,
    timeoutMs: workload.timeoutMs,
    onMessage: (message, reply) => {
      if (message?.mark) reply({ markId: message.markId });
    },
  });
  if (!run.ok) return { ok: false, error: run.error };
  const own = run.messages.find((m) => m?.done)?.own;
  if (!own) return { ok: false, error: "the throwaway side reported no count of its own" };
  return {
    ok: true,
    values: { firstStart: own.first.start, warmStart: own.warm.start, warmStop: own.warm.stop },
    info: { source: "throwaway's own counter (engine.apiCalls); the discovery ping is not in it", ownCount: own },
  };
}

/** `--engines a,b`: one run per engine, in turn, each in a process of its own (its own DOCKER_HOST and results). */
async function runEngines(args) {
  const { spawnSync } = await import("node:child_process");
  let code = 0;
  for (const engine of args.engines) {
    log(`\n=== engine ${engine} ===`);
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...engineRunArgs(args, engine)], { stdio: "inherit" });
    if (run.status !== 0) {
      log(`engine ${engine}: the run exited with ${run.signal ?? run.status}`);
      code = 1;
    }
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
