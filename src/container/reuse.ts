import type { Engine } from "../engine/engine.js";
import { engineStatus } from "../engine/engine-errors.js";
import type { ContainerInspect } from "../engine/types.js";
import { ContainerStartError } from "../errors.js";
import { LABELS } from "../labels.js";

/**
 * How many times a reusable start goes around when the shared container vanishes under it: each round, one of the
 * racing processes creates it (and keeps the outcome), so this bounds how many may race for one that keeps failing.
 */
export const REUSE_ATTEMPTS = 10;

/** A container of the reuse hash and the state the engine listed it in. */
export interface ReuseCandidate {
  id: string;
  state: string;
}

/** The container made with reuse hash `hash`, if any: a running one first, else a stopped or just-created one. */
export async function findReusable(engine: Engine, hash: string): Promise<ReuseCandidate | undefined> {
  const found = await engine.listContainers({ label: [`${LABELS.reuseHash}=${hash}`] });
  const pick = found.find((c) => c.State === "running") ?? found.find((c) => c.State === "exited" || c.State === "created");
  return pick ? { id: pick.Id, state: pick.State } : undefined;
}

export type Elsewhere = { kind: "ready"; id: string } | { kind: "gone" } | { kind: "foreign" };

/**
 * Waits for the container `ref` (name or id), which another process created, to be started by that process: it
 * copies files in first, so starting it ourselves could run it without them. Follows the engine's events rather
 * than polling. `gone` when it went away (its creator failed and removed it), `foreign` when
 * `ref` names a container that is not of this reuse hash (a fixed name taken by something else).
 */
export async function awaitStartedElsewhere(engine: Engine, ref: string, hash: string, deadline: number): Promise<Elsewhere> {
  const controller = new AbortController();
  const waitMs = Math.max(0, deadline - Date.now());
  const timer = setTimeout(() => controller.abort(), waitMs);
  let lastState = "unknown";
  try {
    // Subscribed before the first look so a start in between is not missed; `since` replays the container's recent
    // events in case the subscription trails the response (each one only costs another look).
    const events = await engine.events({ container: [ref], event: ["start", "die", "destroy"] }, controller.signal, {
      since: Math.floor(Date.now() / 1000) - 600,
    });
    for (;;) {
      let inspect: ContainerInspect;
      try {
        inspect = await engine.inspectContainer(ref, controller.signal);
      } catch (error) {
        if (engineStatus(error) === 404) return { kind: "gone" };
        throw error;
      }
      if (inspect.Config.Labels?.[LABELS.reuseHash] !== hash) return { kind: "foreign" };
      lastState = inspect.State.Status;
      if (!inspect.State.Dead && (inspect.State.Running || lastState === "exited")) return { kind: "ready", id: inspect.Id };
      // `created`: its creator copies files in, then starts it. `removing` (and `dead` on the way): its name is free
      // once it is destroyed.
      const next = await events.next();
      if (next.done && !controller.signal.aborted) {
        throw new ContainerStartError(`The engine's event stream ended while waiting for another process to start ${ref.slice(0, 32)}`, {
          containerName: ref,
        });
      }
      if (next.done) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new ContainerStartError(
    `The reusable container ${ref.slice(0, 32)} stayed ${lastState} for ${waitMs} ms while another process held it (did that process die?): remove it with \`docker rm -f ${ref.slice(0, 32)}\``,
    { containerName: ref },
  );
}

/** True when container `id` is gone or on its way out (removed by its creator after a failed start). */
export async function vanished(engine: Engine, id: string): Promise<boolean> {
  try {
    const inspect = await engine.inspectContainer(id);
    return inspect.State.Status === "removing" || inspect.State.Dead;
  } catch (error) {
    return engineStatus(error) === 404;
  }
}
