import { COMPOSE_LABELS } from "../compose/definitions.js";
import { getEngine } from "../engine/current.js";
import { engineMessage } from "../engine/engine-errors.js";
import { EngineRequestError, shortId } from "../errors.js";
import { LABELS } from "../labels.js";
import { type CliCommand, EXIT, UsageError } from "./command.js";
import { count } from "./format.js";
import { fixtureOf, listProject, projectFromArguments } from "./up/project.js";

export const down: CliCommand = {
  name: "down",
  summary: "Remove what `throwaway up` started for a fixture file, kept containers included",
  help: `Usage: throwaway down [file] [--project <name>]
       throwaway down -f docker-compose.yml

Removes every container and network of the project of a fixture file (default: ./throwaway.fixtures.ts, .mts,
.js or .mjs): the ones \`throwaway up --keep\` left running, and those of an \`up\` still running elsewhere. The
file is not loaded, so this works even when it no longer does. Images built for kept containers stay, as the
build cache of the next \`up\`. For a compose project (\`-f\`, a .yml argument, or a compose file found as
\`up\` finds it), its named volumes go too.

Options:
  -f, --file <path>     a compose file (repeatable)
  -p, --project <name>  the project to remove, as given to \`up --project\` (then no file is needed)
  -h, --help            show this help`,
  options: {
    file: { type: "string", short: "f", multiple: true },
    project: { type: "string", short: "p" },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const { project } = projectFromArguments(values.project as string | undefined, positionals[0], values.file as string[] | undefined);
    const engine = await getEngine();
    const { containers, networks } = await listProject(engine, project);
    // A compose project's named volumes, which `up` never labels as fixtures: ours only (a session's, or kept).
    const volumes = (await engine.listVolumes({ label: [`${COMPOSE_LABELS.project}=${project}`] })).filter(
      (volume) => volume.Labels?.[LABELS.session] !== undefined || volume.Labels?.[LABELS.keep] === "true",
    );
    if (containers.length === 0 && networks.length === 0 && volumes.length === 0) {
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
    await Promise.all(
      volumes.map(async (volume) => {
        try {
          await engine.removeVolume(volume.Name);
          io.out(`removed volume ${volume.Name}`);
        } catch (error) {
          failures.push(`volume ${volume.Name}: ${engineMessage(error)}`);
        }
      }),
    );
    if (failures.length > 0) {
      throw new EngineRequestError(
        `Removing ${count(failures.length, "resource")} of project ${project} failed: ${failures.join("; ")}`,
        {},
      );
    }
    const volumeCount = volumes.length > 0 ? `, ${count(volumes.length, "volume")}` : "";
    io.out(`Removed project ${project}: ${count(containers.length, "container")}, ${count(networks.length, "network")}${volumeCount}.`);
    return EXIT.ok;
  },
};
