import { debug } from "../debug.js";
import type { Engine } from "../engine/engine.js";
import { REMOVAL_ORDER } from "./inventory.js";
import { removeOne } from "./remove.js";
import type { ResourceKind } from "./tracker.js";

/** Signals after which a process is gone: Ctrl-C, `kill`/CI cancellation, a closed terminal. */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type ExitSignal = (typeof SIGNALS)[number];

/**
 * How long a signal waits for this process's resources to go before the process dies anyway (ms). The engine
 * force-removes a container in well under a second; a hung engine must not hold Ctrl-C hostage (and the watchdog
 * still reaps whatever is left).
 */
const SIGNAL_CLEANUP_TIMEOUT_MS = 3000;

interface Resource {
  engine: Engine;
  kind: ResourceKind;
  id: string;
}

export interface ExitHookSource {
  /** What this process created and has not removed yet. */
  resources(): Resource[];
  /** Called after each successful removal, so the resource is not removed twice. */
  removed(kind: ResourceKind, id: string): void;
}

let source: ExitHookSource | undefined;
let armed = false;
let cleaning: Promise<void> | undefined;
/** Resources a `beforeExit` already tried: one attempt each, or a failing removal would keep the process alive forever. */
const attempted = new Set<string>();

/**
 * Installs the hooks while this process has resources to remove (the tracker arms and disarms them), so a process
 * that created nothing keeps Node's default signal behaviour untouched.
 *
 * - `SIGINT`, `SIGTERM`, `SIGHUP`: remove this process's resources (at most {@link SIGNAL_CLEANUP_TIMEOUT_MS}), then,
 *   when no other listener is installed, raise the signal again with the default action, so the process dies by
 *   that signal as it would have without us (exit status 128+n; a parent sees `signal: "SIGINT"`). When the app
 *   has its own listener, that listener owns the exit (installing one turned the default off, and its graceful
 *   shutdown may still be running): we start the removal and leave the exit to it. A second signal during the
 *   cleanup raises at once.
 * - `beforeExit` (the event loop ran dry: a normal end): remove the leftovers the program forgot.
 *
 * `process.exit()`, an uncaught exception and SIGKILL run no asynchronous code: the watchdog reaps those.
 */
export function armExitHooks(from: ExitHookSource): void {
  source = from;
  if (armed) return;
  armed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on("beforeExit", onBeforeExit);
}

export function disarmExitHooks(): void {
  if (!armed || cleaning) return; // during a signal's cleanup the listener must stay to know whether it is alone
  armed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off("beforeExit", onBeforeExit);
}

function onSignal(signal: ExitSignal): void {
  // Counted now, before anything changes: we are alone when ours is the only listener.
  const alone = process.listenerCount(signal) === 1;
  if (cleaning) {
    if (alone) raise(signal);
    return;
  }
  debug("reaper", `${signal}: removing this process's resources`);
  cleaning = removeTracked(SIGNAL_CLEANUP_TIMEOUT_MS).finally(() => {
    cleaning = undefined;
    if (alone) raise(signal);
  });
}

function raise(signal: ExitSignal): void {
  armed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("beforeExit", onBeforeExit);
  // With no listener left, Node restores the default action: the process ends by the signal, as it would have.
  process.kill(process.pid, signal);
}

function onBeforeExit(): void {
  if (cleaning || !source) return;
  const left = source.resources().filter((r) => !attempted.has(`${r.kind}:${r.id}`));
  if (left.length === 0) return;
  for (const r of left) attempted.add(`${r.kind}:${r.id}`);
  debug("reaper", `the program ended with ${left.length} resource(s) still there: removing them`);
  cleaning = removeAll(left).finally(() => {
    cleaning = undefined;
    if (source?.resources().length === 0) disarmExitHooks();
  });
}

async function removeTracked(timeoutMs: number): Promise<void> {
  if (!source) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([removeAll(source.resources()), timeout]);
  clearTimeout(timer);
}

/** Kind by kind (containers first: they hold networks and volumes), each kind side by side; never throws. */
async function removeAll(resources: Resource[]): Promise<void> {
  for (const kind of REMOVAL_ORDER) {
    await Promise.all(
      resources
        .filter((r) => r.kind === kind)
        .map(async (r) => {
          try {
            await removeOne(r.engine, r);
            source?.removed(r.kind, r.id);
          } catch (error) {
            debug("reaper", `could not remove ${r.kind} ${r.id.slice(0, 12)}: ${(error as Error).message}`);
          }
        }),
    );
  }
}
