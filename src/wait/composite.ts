import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { PermanentFailure } from "./poll.js";
import { BaseWaitStrategy, DeadlineReached, untilAborted, type WaitContext, type WaitStrategy, type WaitTarget } from "./strategy.js";

type Mode = "all" | "any";

interface Child {
  strategy: WaitStrategy;
  description: string;
  status: "waiting" | "ready" | "failed";
  lastError: string | undefined;
  error: unknown;
  controller: AbortController;
}

/**
 * Runs several strategies at once against one shared deadline (the composite's own `withStartupTimeout`, else the
 * container's). A child's own `withStartupTimeout` bounds that child only, counted from the same start. Probe
 * counts add up; the last error names every strategy still waiting, so a timeout says which part was not ready.
 */
abstract class CompositeWaitStrategy extends BaseWaitStrategy {
  readonly strategies: readonly WaitStrategy[];
  private readonly mode: Mode;

  protected constructor(mode: Mode, strategies: readonly WaitStrategy[]) {
    super();
    const option = `Wait.for${mode === "all" ? "All" : "Any"}(strategies)`;
    if (!Array.isArray(strategies) || strategies.length === 0) {
      throw new InvalidOptionError(option, "a non-empty array of wait strategies", strategies);
    }
    for (const strategy of strategies) {
      const s = strategy as Partial<WaitStrategy> | null;
      if (typeof s !== "object" || s === null || typeof s.waitUntilReady !== "function" || typeof s.describe !== "function") {
        throw new InvalidOptionError(option, "wait strategies only (from `Wait.*`)", strategy);
      }
    }
    this.mode = mode;
    this.strategies = [...strategies];
  }

  /** True when any child expects the container to exit (a one-shot step among them). */
  get expectsExit(): boolean {
    return this.strategies.some((s) => s.expectsExit === true);
  }

  describe(): string {
    return `${this.mode} of: [${this.strategies.map((s) => s.describe()).join(", ")}]`;
  }

  waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    const started = Date.now();
    const area = `container ${target.id.slice(0, 12)}`;
    const children: Child[] = this.strategies.map((strategy) => ({
      strategy,
      description: strategy.describe(),
      status: "waiting",
      lastError: undefined,
      error: undefined,
      controller: new AbortController(),
    }));
    const summary = () =>
      children
        .filter((c) => c.status !== "ready")
        .map((c) => `[${c.description}] ${c.status === "failed" ? "failed: " : ""}${c.lastError ?? "no probe finished yet"}`)
        .join("; ");

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const onParentAbort = () => finish(context.signal.reason, true);
      const finish = (error?: unknown, isError = error !== undefined) => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        context.signal.removeEventListener("abort", onParentAbort);
        // Stop the children still running: the outcome is decided (a sibling won, failed, or the wait ended).
        for (const child of children) {
          if (child.status === "waiting")
            child.controller.abort(context.signal.aborted ? context.signal.reason : new Error("no longer needed"));
        }
        if (isError) reject(error);
        else resolve();
      };
      if (context.signal.aborted) return onParentAbort();
      context.signal.addEventListener("abort", onParentAbort, { once: true });

      for (const child of children) {
        const own = child.strategy.startupTimeoutMs;
        const ownDeadline = own === undefined ? Number.POSITIVE_INFINITY : started + own;
        if (own !== undefined && ownDeadline < context.deadline) {
          timers.push(setTimeout(() => child.controller.abort(new DeadlineReached(own, child.description)), own));
        }
        const childContext: WaitContext = {
          signal: child.controller.signal,
          deadline: Math.min(context.deadline, ownDeadline),
          exited: context.exited,
          attempt: () => context.attempt(),
          lastError: (reason) => {
            child.lastError = reason;
            context.lastError(summary());
          },
        };
        let run: Promise<void>;
        try {
          run = child.strategy.waitUntilReady(target, childContext);
        } catch (error) {
          run = Promise.reject(error);
        }
        untilAborted(run, child.controller.signal).then(
          () => {
            if (settled) return;
            child.status = "ready";
            debug(area, `${this.mode} of: ${child.description} ready after ${Date.now() - started} ms`);
            if (this.mode === "any" || children.every((c) => c.status === "ready")) return finish();
            context.lastError(summary());
          },
          (error: unknown) => {
            if (settled) return;
            child.status = "failed";
            child.error = error;
            child.lastError = error instanceof Error ? error.message : String(error);
            debug(area, `${this.mode} of: ${child.description} failed: ${child.lastError}`);
            context.lastError(summary());
            // Bad options are the caller's to fix, whatever the siblings do.
            if (error instanceof InvalidOptionError) return finish(error);
            if (this.mode === "all") return finish(childFailure(child));
            if (children.every((c) => c.status === "failed")) return finish(allFailed(children));
          },
        );
      }
    });
  }
}

/** A child's failure, named after the child so the composite's error says which part failed. */
function childFailure(child: Child): Error {
  if (child.error instanceof DeadlineReached) return child.error;
  const message = `${child.description}: ${child.lastError}`;
  return child.error instanceof PermanentFailure
    ? new PermanentFailure(message, { cause: child.error })
    : new Error(message, { cause: child.error });
}

/** Every child of `Wait.forAny` failed. */
function allFailed(children: Child[]): Error {
  const deadlines = children.map((c) => c.error).filter((e): e is DeadlineReached => e instanceof DeadlineReached);
  if (deadlines.length === children.length) {
    return new DeadlineReached(Math.max(...deadlines.map((d) => d.timeoutMs)), "every strategy");
  }
  return new PermanentFailure(`none can succeed: ${children.map((c) => `[${c.description}] ${c.lastError}`).join("; ")}`);
}

/** Ready when every strategy is ready; they run at once, against one shared deadline. The first failure fails all. */
export class AllWaitStrategy extends CompositeWaitStrategy {
  constructor(strategies: readonly WaitStrategy[]) {
    super("all", strategies);
  }
}

/** Ready as soon as one strategy is ready (the others are stopped); fails only when every one has failed. */
export class AnyWaitStrategy extends CompositeWaitStrategy {
  constructor(strategies: readonly WaitStrategy[]) {
    super("any", strategies);
  }
}
