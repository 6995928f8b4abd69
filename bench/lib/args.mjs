import { ENGINE_NAMES, ENGINE_WORKLOADS } from "./engines.mjs";
import { WORKLOADS } from "./workloads.mjs";

/** `npm run bench`'s options. */

export const HELP = `npm run bench [-- options]

  --quick            fewer samples (finishes in under 3 minutes)
  --only a,b         run only these workloads (${WORKLOADS.map((w) => w.id).join(", ")})
  --samples N        samples per variant (after the warm-up round), overriding each workload's own
  --engine NAME      run on another engine instead of the local one, all three sides pointed at it by the lines
  --engines a,b      \`bash scripts/engine.sh ensure NAME\` prints (${ENGINE_NAMES.join(", ")}); one run per
                     engine, in turn, each writing bench/results/engine-NAME.json; without --only these run
                     ${ENGINE_WORKLOADS.join(", ")}
  --docker-host URL  with one --engine: use this DOCKER_HOST for it instead of running engine.sh (an engine
                     provisioned some other way; recorded in the results)
  --write-readme     no run: regenerate bench/README.md's results and bench/results/ratios.svg from
                     bench/results/latest.json (refuses a quick or partial run unless --force); with --engines,
                     its per-engine section from bench/results/engine-NAME.json instead
  --help

Environment: THROWAWAY_BENCH_NODE=/path/to/node (Node >= 22.22) instead of the npm-installed Node 22.`;

function list(value) {
  return value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * @param {string[]} argv
 * @returns {{ quick: boolean, only?: string[], samples?: number, writeReadme: boolean, force: boolean,
 *   engines?: string[], dockerHost?: string, help?: boolean }}
 */
export function parseArgs(argv) {
  const args = { quick: false, only: undefined, samples: undefined, writeReadme: false, force: false, engines: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--write-readme") args.writeReadme = true;
    else if (a === "--force") args.force = true;
    else if (a === "--only") args.only = list(argv[++i]);
    else if (a === "--samples") args.samples = Number(argv[++i]);
    else if (a === "--engine" || a === "--engines") args.engines = [...(args.engines ?? []), ...(list(argv[++i]) ?? [])];
    else if (a === "--docker-host") args.dockerHost = argv[++i];
    else if (a === "--help" || a === "-h") args.help = true;
    else throw new Error(`unknown option ${a}\n\n${HELP}`);
  }
  if (args.samples !== undefined && (!Number.isInteger(args.samples) || args.samples < 1)) {
    throw new Error(`--samples takes a whole number >= 1, got ${argv[argv.indexOf("--samples") + 1]}`);
  }
  const unknown = args.only?.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown?.length) throw new Error(`--only: no workload ${unknown.join(", ")} (known: ${WORKLOADS.map((w) => w.id).join(", ")})`);
  if (args.engines !== undefined) {
    if (args.engines.length === 0) throw new Error(`--engine takes an engine name (${ENGINE_NAMES.join(", ")})`);
    const bad = args.engines.filter((name) => !ENGINE_NAMES.includes(name));
    if (bad.length) throw new Error(`--engine: no engine ${bad.join(", ")} (known: ${ENGINE_NAMES.join(", ")})`);
    args.engines = [...new Set(args.engines)];
  }
  if (args.dockerHost !== undefined) {
    if (!args.dockerHost || !/^(unix|tcp|ssh):\/\//.test(args.dockerHost)) {
      throw new Error(`--docker-host takes a unix://, tcp:// or ssh:// URL, got ${JSON.stringify(args.dockerHost ?? "")}`);
    }
    if (args.engines?.length !== 1) throw new Error("--docker-host names where one engine is: give exactly one --engine with it");
  }
  return args;
}

/** The workload ids a run takes: `--only`'s, else an engine run's subset, else all. */
export function selectedWorkloadIds(args) {
  if (args.only) return WORKLOADS.map((w) => w.id).filter((id) => args.only.includes(id));
  if (args.engines) return WORKLOADS.map((w) => w.id).filter((id) => ENGINE_WORKLOADS.includes(id));
  return WORKLOADS.map((w) => w.id);
}

/** The arguments of one engine's run when several are asked for (each runs in a process of its own). */
export function engineRunArgs(args, engine) {
  const out = ["--engine", engine];
  if (args.quick) out.push("--quick");
  if (args.only) out.push("--only", args.only.join(","));
  if (args.samples !== undefined) out.push("--samples", String(args.samples));
  return out;
}
