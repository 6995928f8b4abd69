import { engineMessage, getEngine } from "../engine/engine.js";
import { EngineRequestError, shortId } from "../errors.js";
import { type CliCommand, EXIT, UsageError } from "./command.js";
import { fixtureOf, listProject, projectFromArguments } from "./fixtures/project.js";
import { count } from "./format.js";

export const down: CliCommand = {
  name: "down",
  summary: "Remove what `throwaway up` started for a fixture file, kept containers included",
  help: `Usage: throwaway down [file] [--project <name>]

Removes every container and network of the project of a fixture file (default: ./throwaway.fixtures.ts, .mts,
.js or .mjs): the ones \`throwaway up --keep\` left running, and those of an \`up\` still running elsewhere. The
file is not loaded, so this works even when it no longer does. Images built for kept containers stay, as the
build cache of the next \`up\`.

Options:
  -p, --project <name>  the project to remove, as given to \`up --project\` (then no file is needed)
  -h, --help            show this help`,
  options: {
    project: { type: "string", short: "p" },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const { project } = projectFromArguments(values.project as string | undefined, positionals[0]);
    const engine = await getEngine();
    const { containers, networks } = await listProject(engine, project);
    if (containers.length === 0 && networks.length === 0) {
      io.out(`Nothing of project ${project} to remove.`);
      return EXIT.ok;
    }
    const failures: string[] = [];
    // Containers first: a network cannot go while one is attached to it.
    await Promise.all(
      containers.map(async (container) => {
        try {
          await engine.removeContainer(container.Id, { force: true, volumes: true });
          io.out(`removed ${fixtureOf(container)} (container ${shortId(container.Id)})`);
        } catch (error) {
          failures.push(`container ${shortId(container.Id)} (${fixtureOf(container)}): ${engineMessage(error)}`);
        }
      }),
    );
    await Promise.all(
      networks.map(async (network) => {
        try {
          await engine.removeNetwork(network.Id);
          io.out(`removed ${fixtureOf(network)} (network ${network.Name})`);
        } catch (error) {
          failures.push(`network ${network.Name} (${fixtureOf(network)}): ${engineMessage(error)}`);
        }
      }),
    );
    if (failures.length > 0) {
      throw new EngineRequestError(
        `Removing ${count(failures.length, "resource")} of project ${project} failed: ${failures.join("; ")}`,
        {},
      );
    }
    io.out(`Removed project ${project}: ${count(containers.length, "container")}, ${count(networks.length, "network")}.`);
    return EXIT.ok;
  },
};
