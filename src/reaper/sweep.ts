import { channels, debug } from "../debug.js";
import { Engine } from "../engine/engine.js";
import { listOwnedResources } from "./inventory.js";
import { realVantage, selectForRemoval, viewSessions } from "./liveness.js";
import { describeResource, removeResources } from "./remove.js";

/**
 * When the first start has not finished this long after the sweep was asked for (ms), the sweep runs anyway: a
 * process that only creates networks, or whose first start hangs, still sweeps.
 */
const SWEEP_FALLBACK_DELAY_MS = 2000;

let scheduled = false;

/**
 * Without a watchdog, leftovers of sessions that died (killed test runs) are removed by the next run: once per
 * process, after this process's first container is ready (or a little later without one), so the sweep's list and
 * remove calls never compete with the first start. Only provably dead sessions are touched (every creator pid gone
 * from this host's pid space), never kept resources. The sweep uses an engine of its own, so its calls do not show
 * in the caller's `engine.apiCalls`.
 */
export function scheduleSweep(engine: Engine): void {
  if (scheduled) return;
  scheduled = true;
  let started = false;
  const run = () => {
    if (started) return;
    started = true;
    channels.containerReady.unsubscribe(run);
    clearTimeout(timer);
    void sweepDeadSessions(new Engine(engine.endpoint)).catch((error: unknown) =>
      debug("reaper", `sweep failed: ${(error as Error).message}`),
    );
  };
  channels.containerReady.subscribe(run);
  const timer = setTimeout(run, SWEEP_FALLBACK_DELAY_MS);
  timer.unref();
}

/** Removes every resource of every dead session on `engine`; returns how many it removed. */
export async function sweepDeadSessions(engine: Engine): Promise<number> {
  const sessions = viewSessions(await listOwnedResources(engine), realVantage());
  const doomed = selectForRemoval(sessions, "dead", { ownSessionId: realVantage().sessionId });
  if (doomed.length === 0) return 0;
  const results = await removeResources(engine, doomed);
  for (const { resource, error } of results) {
    debug(
      "reaper",
      `sweep: ${error ? `could not remove ${describeResource(resource)}: ${error}` : `removed ${describeResource(resource)}`}`,
    );
  }
  return results.filter((r) => !r.error).length;
}
