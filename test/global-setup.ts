import { execFileSync } from "node:child_process";

/**
 * After the whole run, nothing of this run may remain on the engine. The session id is created here, in the main
 * process, and inherited by every worker, so one label finds all of it.
 */
export async function setup(): Promise<() => Promise<void>> {
  const { getSessionId, LABELS } = await import("../src/index.js");
  const session = getSessionId();
  return async () => {
    const filter = `label=${LABELS.session}=${session}`;
    const containers = execFileSync("docker", ["ps", "-aq", "--filter", filter], { encoding: "utf8" }).trim();
    const networks = execFileSync("docker", ["network", "ls", "-q", "--filter", filter], { encoding: "utf8" }).trim();
    if (containers || networks) {
      throw new Error(
        `The test run leaked resources of session ${session}:\ncontainers: ${containers || "none"}\nnetworks: ${networks || "none"}`,
      );
    }
  };
}
