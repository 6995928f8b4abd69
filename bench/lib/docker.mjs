import { execFile } from "node:child_process";

/**
 * The docker CLI, for the CLI side and for the bench's own bookkeeping (log timestamps, leftovers). The bench's own
 * calls never fall inside a timed span.
 */

/**
 * Runs `docker ...args`; resolves with trimmed stdout, rejects with the CLI's stderr in the message.
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, timeoutMs?: number }} [options]
 * @returns {Promise<string>}
 */
export function docker(args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      "docker",
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const text = String(stderr).trim() || error.message;
          reject(new Error(`docker ${args.slice(0, 3).join(" ")} failed: ${text}`));
        } else {
          resolve(String(stdout).trim());
        }
      },
    );
  });
}

/**
 * `2024-11-29T16:20:00.123456789Z` -> epoch ms with the sub-millisecond digits kept.
 * @param {string} stamp
 */
export function parseEngineTimestamp(stamp) {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  if (!match) throw new Error(`not an engine timestamp: ${JSON.stringify(stamp)}`);
  const whole = Date.parse(`${match[1]}${match[3]}`);
  const fraction = match[2] ? Number(`0.${match[2]}`) * 1000 : 0;
  return whole + fraction;
}

/**
 * When the engine received the first log line containing `marker` (its own timestamp, taken as the line arrived).
 * @param {string} id container id
 * @param {string} marker
 */
export async function logLineTime(id, marker) {
  const out = await docker(["logs", "--timestamps", id]);
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0 && line.slice(space + 1).includes(marker)) return parseEngineTimestamp(line.slice(0, space));
  }
  throw new Error(`container ${id.slice(0, 12)} never printed ${JSON.stringify(marker)}`);
}

/**
 * On an engine run (issue 14), fails unless container `id` is on the engine this process's DOCKER_HOST names: a side
 * that quietly started it elsewhere (say, on the local socket) would otherwise be timed as if it ran there. Untimed;
 * a no-op on the local run, whose numbers stay as they were.
 * @param {string | undefined} id
 */
export async function assertOnEngine(id) {
  if (!process.env.THROWAWAY_BENCH_ENGINE) return;
  const where = `the bench's engine (${process.env.THROWAWAY_BENCH_ENGINE}, DOCKER_HOST=${process.env.DOCKER_HOST})`;
  if (!id) throw new Error(`the side returned no container id, so the bench cannot check it ran on ${where}`);
  const found = await docker(["container", "inspect", "--format", "{{.Id}}", id]).catch(() => "");
  if (!found.startsWith(id)) throw new Error(`container ${id.slice(0, 12)} is not on ${where}: the side started it elsewhere`);
}

/**
 * Everything on the engine carrying `label` (`key=value`): containers (any state), networks, volumes, images.
 * @param {string} label
 */
export async function resourcesWithLabel(label) {
  const filter = ["--filter", `label=${label}`];
  const [containers, networks, volumes, images] = await Promise.all([
    docker(["ps", "-aq", ...filter]),
    docker(["network", "ls", "-q", ...filter]),
    docker(["volume", "ls", "-q", ...filter]),
    docker(["images", "-q", ...filter]),
  ]);
  const split = (text) => text.split("\n").filter(Boolean);
  return { containers: split(containers), networks: split(networks), volumes: split(volumes), images: [...new Set(split(images))] };
}

/**
 * Removes what {@link resourcesWithLabel} found (best effort: the bench reports leftovers, then cleans them up).
 * @param {{ containers: string[], networks: string[], volumes: string[], images: string[] }} found
 */
export async function removeResources(found) {
  if (found.containers.length) await docker(["rm", "-f", "-v", ...found.containers]).catch(() => {});
  if (found.networks.length) await docker(["network", "rm", ...found.networks]).catch(() => {});
  if (found.volumes.length) await docker(["volume", "rm", "-f", ...found.volumes]).catch(() => {});
  if (found.images.length) await docker(["rmi", "-f", ...found.images]).catch(() => {});
}

/** @param {string} ref */
export async function imageId(ref) {
  return docker(["image", "inspect", "--format", "{{.Id}}", ref]).catch(() => undefined);
}
