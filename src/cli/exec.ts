import { COMPOSE_LABELS } from "../compose/definitions.js";
import { getEngine } from "../engine/current.js";
import type { Engine } from "../engine/engine.js";
import type { ContainerSummary } from "../engine/types.js";
import { InvalidOptionError } from "../errors.js";
import { FIXTURE_LABELS } from "../fixtures/labels.js";
import { type CliCommand, UsageError } from "./command.js";
import { runExecSession } from "./up/exec-session.js";
import { fixtureOf, listProject, projectFromArguments } from "./up/project.js";

export const exec: CliCommand = {
  name: "exec",
  summary: "Open a shell (or run a command) in a running fixture container, by fixture name",
  help: `Usage: throwaway exec [options] <name> [-- <command>...]

Runs a command in the container of fixture <name> that \`throwaway up\` started, like \`docker exec -it\`
without looking up its id. Without a command: an interactive shell, bash when the container has it, else sh.
With a terminal, the command gets a TTY that follows the terminal's size; piped input works too
(\`echo "SELECT 1" | throwaway exec mysql -- mysql\`). The exit code is the command's.

Options:
  -f, --file <path>      the fixture file whose project to look in (default: ./throwaway.fixtures.ts, .mts,
                         .js or .mjs; it is not loaded), or a compose file (then <name> is a service, \`web\`
                         for its first container, or a container, \`web-2\`)
  -p, --project <name>   the project, as given to \`up --project\` (then no file is needed)
  -u, --user <user>      user, uid, user:group or uid:gid to run as (default: the container's)
  -w, --workdir <dir>    working directory in the container
  -e, --env <KEY=value>  an environment variable for the command (repeatable)
  -T, --no-tty           no TTY, even when stdin and stdout are a terminal
  -h, --help             show this help`,
  options: {
    file: { type: "string", short: "f" },
    project: { type: "string", short: "p" },
    user: { type: "string", short: "u" },
    workdir: { type: "string", short: "w" },
    env: { type: "string", short: "e", multiple: true },
    "no-tty": { type: "boolean", short: "T" },
  },
  allowPositionals: true,
  async run(values, positionals, _io) {
    const [name, ...command] = positionals;
    if (name === undefined) throw new UsageError("missing the fixture name, e.g. `throwaway exec mysql`");
    const env: Record<string, string> = {};
    for (const entry of (values.env as string[] | undefined) ?? []) {
      const equals = entry.indexOf("=");
      if (equals <= 0) throw new UsageError(`--env takes KEY=value, got ${JSON.stringify(entry)}`);
      env[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
    const file = values.file as string | undefined;
    const { project } = projectFromArguments(values.project as string | undefined, file);
    const engine = await getEngine();
    const container = await findFixtureContainer(engine, project, name);
    const tty = values["no-tty"] !== true && process.stdin.isTTY === true && process.stdout.isTTY === true;
    const cmd = command.length > 0 ? command : await defaultShell(engine, container.Id);
    return runExecSession(
      engine,
      container.Id,
      cmd,
      {
        tty,
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(values.user !== undefined ? { user: values.user as string } : {}),
        ...(values.workdir !== undefined ? { workingDir: values.workdir as string } : {}),
      },
      { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    );
  },
};

/** The running container of fixture `name` in `project`: the newest, if two `up`s of the project run at once. */
async function findFixtureContainer(engine: Engine, project: string, name: string): Promise<ContainerSummary> {
  const { containers } = await listProject(engine, project);
  const running = containers.filter((c) => c.State === "running");
  // A compose service's name stands for its first container, as in `docker compose exec`.
  const named = running.filter((c) => c.Labels[FIXTURE_LABELS.fixture] === name);
  const byService = running.filter((c) => c.Labels[COMPOSE_LABELS.service] === name && c.Labels[COMPOSE_LABELS.number] === "1");
  const matches = (named.length > 0 ? named : byService).sort((a, b) => b.Created - a.Created);
  if (matches[0]) return matches[0];
  const others = [...new Set(running.map((c) => fixtureOf(c)))].sort();
  const stopped = containers.find((c) => c.Labels[FIXTURE_LABELS.fixture] === name);
  const expected = stopped
    ? `a running fixture container of project ${project} (${name}'s container is ${stopped.State}: \`throwaway up\` starts it again)`
    : others.length > 0
      ? `a running fixture container of project ${project} (running: ${others.join(", ")})`
      : `a running fixture container of project ${project} (none is running: start them with \`throwaway up\`)`;
  throw new InvalidOptionError("exec <name>", expected, name);
}

/** bash when the container has it, else sh; one quick probe. */
async function defaultShell(engine: Engine, containerId: string): Promise<string[]> {
  const probe = await engine
    .exec(containerId, ["sh", "-c", "command -v bash >/dev/null 2>&1 && echo bash || echo sh"])
    .catch(() => undefined);
  if (probe && probe.exitCode === 0) return [probe.stdout.trim() === "bash" ? "bash" : "sh"];
  throw new InvalidOptionError(
    "exec <name> -- <command>",
    "a command to run (the container has no bash or sh to start by default)",
    "no command",
  );
}
