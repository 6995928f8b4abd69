import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { COMPOSE_LABELS } from "../../compose/definitions.js";
import { StartedContainer } from "../../container/started-container.js";
import { getEngine } from "../../engine/current.js";
import type { Engine } from "../../engine/engine.js";
import { ThrowawayError } from "../../errors.js";
import { type StartedSet, selectFixtures, startFixtureSet } from "../../fixtures/run.js";
import type { FixtureDefinition } from "../../fixtures/types.js";
import { LABELS } from "../../labels.js";
import { removeOne } from "../../reaper/remove.js";
import { getSessionId } from "../../reaper/session.js";
import { trackedResources, untrackResource } from "../../reaper/tracker.js";
import { type CliCommand, type CliIo, EXIT, UsageError } from "../command.js";
import { count, joinAnd } from "../format.js";
import { composeFixtureNames, composeStart, displayPath, findComposeFiles, loadComposeFiles } from "./compose-source.js";
import { connectionLines, describeFixture, envEntries, envFileText, type FixtureInfo } from "./describe.js";
import { prepareForProject, removeCreatedSince, removeReplaced } from "./keep.js";
import { findFixtureFile, loadFixtures } from "./load.js";
import { streamLogs } from "./logs.js";
import { ProgressPrinter } from "./progress.js";
import { defaultProjectName, isKeptResource, listProject, validateProjectName } from "./project.js";
import { colorsEnabled, styler } from "./style.js";

/** Signals that end `up`: Ctrl-C, `kill`, a closed terminal. */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type EndSignal = (typeof SIGNALS)[number];

/**
 * After a signal and the teardown, how long the process may stay up for work nobody waits for any more (an image
 * build still streaming) before it exits anyway (ms). The reaper removes whatever that work leaves.
 */
const EXIT_GRACE_MS = 2000;

export const up: CliCommand = {
  name: "up",
  summary: "Start a fixture file's containers for development, print how to reach them, stream their logs",
  help: `Usage: throwaway up [file] [options]
       throwaway up -f docker-compose.yml [-f override.yml] [options]

Starts the fixtures a fixture file exports (default: ./throwaway.fixtures.ts, .mts, .js or .mjs), the very
definitions the tests use: each after the fixtures it needs, independent ones side by side. Prints how to reach
each one (host, mapped ports, URIs such as MySQL's connection URI), then streams what they print from then on
(the startup output is in \`docker logs\`, and in the error when a start fails) until Ctrl-C, which removes
everything.

A fixture file exports a set made with defineFixtures() (TypeScript is compiled with esbuild):
  export default defineFixtures()
    .add("network", () => new Network())
    .add("mysql", ["network"], ({ network }) => new MySqlContainer("mysql:5.7").withNetwork(network));

A compose file works too, natively (no Compose binary): \`-f\` files (merged in order), a .yml/.yaml argument,
or, when the folder has no fixture file, its compose.yaml, compose.yml, docker-compose.yaml or
docker-compose.yml (and the matching .override file) as Compose finds them. Containers are named
<project>-<service>-<n> and carry Compose's labels; the project is Compose's (\`name:\`, else the folder's name).

Options:
  -f, --file <path>     a compose file (repeatable)
  --profile <name>      a compose profile to enable (repeatable; default: COMPOSE_PROFILES)
  --keep                leave them running after exit; the next \`up\` of the file reuses them (the same
                        containers, ready at once) unless their definition changed; \`throwaway down\` removes them
  -d, --detach          start them, print how to reach them and exit, leaving them running (implies --keep)
  --only <name>         start this fixture (or compose service) and the ones it needs instead of the whole
                        file (repeatable)
  --write-env <path>    also write how to reach them to a dotenv file: MYSQL_HOST, MYSQL_PORT, MYSQL_URI, ...
                        (the same as --env-file, which Node 20 and 22 take for their own option wherever it
                        appears, failing while the file does not exist yet)
  -q, --quiet           do not stream the containers' logs
  -p, --project <name>  the project their labels name (default: the file's folder and a hash of its path);
                        \`throwaway down\` and \`throwaway exec\` take the same option
  -h, --help            show this help

While kept containers of the project exist, a plain \`up\` reuses them too and leaves them running.
Exit codes: 0 after --detach, 1 when a fixture fails to start (its last log lines follow), 2 for a wrong
command line, 130 after Ctrl-C (143 after SIGTERM, 129 after SIGHUP).`,
  options: {
    file: { type: "string", short: "f", multiple: true },
    profile: { type: "string", multiple: true },
    keep: { type: "boolean" },
    detach: { type: "boolean", short: "d" },
    only: { type: "string", multiple: true },
    "write-env": { type: "string" },
    "env-file": { type: "string" },
    quiet: { type: "boolean", short: "q" },
    project: { type: "string", short: "p" },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const detach = values.detach === true;
    const keepAsked = values.keep === true || detach;
    const envFile = (values["write-env"] ?? values["env-file"]) as string | undefined;
    const only = values.only as string[] | undefined;
    const composeFiles = findComposeFiles(values.file as string[] | undefined, positionals[0]);
    const given = values.project !== undefined ? validateProjectName(values.project as string) : undefined;
    // Finding the engine (loading its client, a ping) overlaps with compiling and loading the fixture file.
    const enginePromise = getEngine();
    enginePromise.catch(() => {});
    let display: string;
    let project: string;
    let names: string[];
    let definitionsFor: (keep: boolean) => { definitions: readonly FixtureDefinition[]; only?: string[] };
    let what: string;
    if (composeFiles) {
      const composeProject = loadComposeFiles(composeFiles, given);
      display = composeFiles.map((f) => displayPath(f)).join(", ");
      project = composeProject.name;
      const plan = { ...(only ? { only } : {}), ...(values.profile ? { profiles: values.profile as string[] } : {}) };
      names = composeFixtureNames(composeProject, plan);
      definitionsFor = (keep) => ({ definitions: composeStart(composeProject, { ...plan, keep }) });
      what = "fixture";
    } else {
      const file = findFixtureFile(positionals[0]);
      display = file.display;
      project = given ?? defaultProjectName(file.path);
      const { fixtures } = await loadFixtures(file);
      for (const name of only ?? []) {
        if (!fixtures.names.includes(name)) {
          throw new UsageError(
            `--only ${name}: ${file.display} has no fixture ${JSON.stringify(name)} (it has ${fixtures.names.join(", ")})`,
          );
        }
      }
      names = selectFixtures(fixtures.definitions, only).map((d) => d.name);
      definitionsFor = () => ({ definitions: fixtures.definitions, ...(only ? { only } : {}) });
      what = "fixture";
    }
    // How `down` and `exec` find this project again, for the hints printed below.
    const named = values.project !== undefined ? ` --project ${project}` : undefined;
    const fileArgument = composeFiles ? ` -f ${displayPath(composeFiles[0]!)}` : ` ${display}`;
    const explicit = positionals[0] !== undefined || composeFiles !== undefined;
    const downTarget = named ?? (explicit ? fileArgument : "");
    const execTarget = named ?? (explicit ? (composeFiles ? fileArgument : ` -f ${display}`) : "");

    const engine = await enginePromise;
    const before = await listProject(engine, project);
    const keptBefore = before.containers.some(isKeptResource) || before.networks.some(isKeptResource);
    const keep = keepAsked || keptBefore;
    const style = styler(colorsEnabled(process.stderr));
    const outStyle = styler(colorsEnabled(process.stdout));
    const printer = new ProgressPrinter(
      io,
      names,
      style,
      new Set([...before.containers.map((c) => c.Id), ...before.networks.map((n) => n.Id)]),
    );

    io.err(`Starting ${count(names.length, what)} of ${display} (project ${project}${keep ? ", kept" : ""})`);
    if (keep && !keepAsked) {
      io.err(
        style("yellow", "  Kept containers of this project exist: reusing them, and leaving them running (`throwaway down` removes them)."),
      );
    }

    const signals = new SignalWatch();
    try {
      let set: StartedSet;
      try {
        const { definitions, only: runOnly } = definitionsFor(keep);
        set = await startFixtureSet(definitions, {
          ...(runOnly ? { only: runOnly } : {}),
          keep,
          signal: signals.signal,
          onEvent: printer.onEvent,
          prepare: prepareForProject({ engine, project, keep, note: (name, text) => printer.line(name, style("yellow", text)) }),
          leaveStartedOnFailure: keep,
        });
      } catch (error) {
        if (signals.received) {
          if (keep) {
            io.err(`Interrupted: what started is left running (kept); \`throwaway down${downTarget}\` removes it.`);
          } else {
            await removeLeftovers();
            if (composeFiles) await removeSessionVolumes(engine, project);
            io.err("Interrupted: removed what had started.");
          }
          return signals.exitCode();
        }
        if (keep) await removeCreatedSince(engine, project, before).catch(() => {});
        reportFailure(io, error);
        return EXIT.failure;
      }

      if (keep) for (const line of await removeReplaced(engine, before, set)) io.err(`  ${line}`);
      const infos = [...set.resources].map(([name, resource]) => describeFixture(name, resource));
      io.out("");
      for (const line of connectionLines(infos, outStyle, (name) => printer.colorOf(name))) io.out(line);
      io.out("");
      let written: string | undefined;
      if (envFile !== undefined) {
        written = await writeEnvFile(envFile, infos, `Written by \`throwaway up\` for project ${project} (${display}).`);
        io.err(`Wrote ${envFile} (${count(envEntries(infos).length, "variable")}).`);
      }

      if (detach) {
        io.err(
          `Left running (kept): ${joinAnd(names)}. \`throwaway exec${execTarget} <name>\` opens a shell in one; \`throwaway down${downTarget}\` removes them.`,
        );
        return EXIT.ok;
      }
      io.err(
        keep
          ? `${values.quiet ? "Running" : "Streaming logs"}. Ctrl-C leaves them running; \`throwaway down${downTarget}\` removes them.`
          : `${values.quiet ? "Running" : "Streaming logs"}. Ctrl-C stops and removes everything.`,
      );
      const containers = [...set.resources].filter((entry): entry is [string, StartedContainer] => entry[1] instanceof StartedContainer);
      const logs = values.quiet
        ? undefined
        : streamLogs({
            engine,
            io,
            printer,
            style: outStyle,
            containers,
            onEnd: (name, what) => printer.line(name, style("yellow", what)),
          });

      await signals.wait();
      logs?.abort();
      if (keep) {
        io.err(`Left running (kept): ${joinAnd(names)}. \`throwaway down${downTarget}\` removes them.`);
        return signals.exitCode();
      }
      io.err("Removing everything...");
      let code = signals.exitCode();
      try {
        await set.stop();
      } catch (error) {
        io.err(`throwaway up: ${error instanceof ThrowawayError ? error.shortMessage : (error as Error).message}`);
        code = EXIT.failure;
      }
      await removeLeftovers();
      if (composeFiles) await removeSessionVolumes(engine, project);
      if (written !== undefined) await removeEnvFile(envFile!, written);
      return code;
    } finally {
      signals.dispose();
    }
  },
};

/** One line naming the fixture and why, then what explains it (the container's last log lines). */
function reportFailure(io: CliIo, error: unknown): void {
  if (error instanceof ThrowawayError) {
    io.err(`throwaway up: ${error.shortMessage}`);
    if (error.details) io.err(`\n${error.details}`);
    return;
  }
  io.err(`throwaway up: ${(error as Error).message ?? String(error)}`);
}

/** Whatever this process still tracks (a container created while Ctrl-C was handled): removed now, not by the reaper later. */
async function removeLeftovers(): Promise<void> {
  for (const kind of ["container", "network"] as const) {
    await Promise.all(
      trackedResources()
        .filter((resource) => resource.kind === kind)
        .map(async (resource) => {
          try {
            await removeOne(resource.engine, resource);
            untrackResource(resource.kind, resource.id);
          } catch {
            // Still tracked: the exit hooks and the reaper try again.
          }
        }),
    );
  }
}

/** A compose project's named volumes this run made (the engine made them on create, so nothing tracks them). */
async function removeSessionVolumes(engine: Engine, project: string): Promise<void> {
  const volumes = await engine
    .listVolumes({ label: [`${COMPOSE_LABELS.project}=${project}`, `${LABELS.session}=${getSessionId()}`] })
    .catch(() => []);
  await Promise.all(volumes.map((volume) => engine.removeVolume(volume.Name).catch(() => {})));
}

/** Written aside and renamed: a reader never sees half a file. Returns what was written. */
async function writeEnvFile(path: string, infos: readonly FixtureInfo[], heading: string): Promise<string> {
  const text = envFileText(envEntries(infos), heading);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
  return text;
}

/** Removes the env file once its values point nowhere, unless someone changed it since. */
async function removeEnvFile(path: string, written: string): Promise<void> {
  const now = await readFile(path, "utf8").catch(() => undefined);
  if (now === written) await rm(path, { force: true });
}

/**
 * Turns SIGINT, SIGTERM and SIGHUP into an abort and a wake-up while `up` runs, so it tears down in order and exits
 * with 128 + the signal's number. A second signal exits at once (the reaper removes what is left).
 */
class SignalWatch {
  received: EndSignal | undefined;
  private readonly controller = new AbortController();
  private wake: () => void = () => {};
  private readonly woken = new Promise<void>((resolve) => {
    this.wake = resolve;
  });
  private readonly handler = (signal: EndSignal) => {
    if (this.received) process.exit(this.exitCode());
    this.received = signal;
    this.controller.abort(new Error(`${signal} received`));
    this.wake();
  };

  constructor() {
    for (const signal of SIGNALS) process.on(signal, this.handler);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Resolves on the first signal; until then the process stays up even with nothing else to do (`--quiet`). */
  async wait(): Promise<void> {
    const alive = setInterval(() => {}, 2 ** 30);
    try {
      await this.woken;
    } finally {
      clearInterval(alive);
    }
  }

  exitCode(): number {
    return 128 + (this.received ? constants.signals[this.received] : 0);
  }

  /** Call once the teardown is done. */
  dispose(): void {
    for (const signal of SIGNALS) process.off(signal, this.handler);
    // Work nobody waits for any more (an image build still streaming) must not hold the exit after a signal.
    if (this.received) setTimeout(() => process.exit(this.exitCode()), EXIT_GRACE_MS).unref();
  }
}
