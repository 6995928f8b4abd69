import { env } from "../config.js";
import { debug } from "../debug.js";
import type { Engine } from "../engine/engine.js";
import { armExitHooks, disarmExitHooks } from "./exit-hooks.js";
import { getSessionId } from "./session.js";
import { scheduleSweep } from "./sweep.js";
import { onTrackedChange, trackedResources, untrackResource } from "./tracker.js";
import { joinWatchdog } from "./watchdog-client.js";

/** Default of `THROWAWAY_REAPER_GRACE` (ms). */
export const DEFAULT_REAPER_GRACE_MS = 1000;

/**
 * `THROWAWAY_REAPER_GRACE`: how long the watchdog waits after the last process of the session has gone for one to
 * come back, before it removes the session's resources (ms). Default 1000. Raise it when a run has gaps between
 * its processes (a script that starts containers, exits, and a later step that uses them); `0` reaps at once.
 */
export function getReaperGraceMs(): number {
  return env.reaperGraceMs(DEFAULT_REAPER_GRACE_MS);
}

/**
 * Called on every start, before the resource is created: makes sure this process has joined its session's cleanup.
 * Synchronous and non-blocking: the watchdog comes up beside the first container (a spawn, ~2 ms), and later calls
 * cost a map lookup. With `THROWAWAY_REAPER=off`, schedules the once-per-process sweep of dead sessions instead.
 *
 * Throws {@link ReaperError} when the reaper cannot work and the user must act (the message says how).
 */
export function prepareSession(engine: Engine): void {
  getSessionId();
  if (env.reaperEnabled()) {
    joinWatchdog(engine.endpoint, { graceMs: getReaperGraceMs(), stillNeeded: () => trackedResources().length > 0 });
  } else {
    scheduleSweep(engine);
  }
}

// Exit hooks live exactly as long as this process has something to remove; a tracked resource also guarantees
// the session's cleanup for code that tracks without calling prepareSession first.
onTrackedChange((event, resource) => {
  if (event === "created") {
    armExitHooks({ resources: trackedResources, removed: untrackResource });
    try {
      prepareSession(resource.engine);
    } catch (error) {
      // The resource exists already; its creator's own prepareSession call reported this failure before.
      debug("reaper", (error as Error).message);
    }
  } else if (trackedResources().length === 0) {
    disarmExitHooks();
  }
});
