import type { ContainerInspect } from "../engine/types.js";
import { InvalidOptionError } from "../errors.js";
import { poll } from "./poll.js";
import { BaseWaitStrategy, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Looks at the container's current state (the engine's inspect answer) and says whether it is ready: `true` is
 * ready; `false` or a string is "not yet" (the string says why and appears in the timeout error). Throw
 * `PermanentFailure` when it can never become ready.
 */
export type StartupCheck = (inspect: ContainerInspect) => boolean | string | Promise<boolean | string>;

export interface StartupCheckOptions {
  /** Longest pause between checks in ms (each costs one inspect). Default 250; the first checks come sooner. */
  intervalMs?: number;
  /**
   * `true` when the container exiting with code 0 may be what the check waits for (a job: "exited with 0"), so the
   * wait does not fail on that exit. A non-zero exit or an OOM kill still fails at once. Default `false`.
   */
  exits?: boolean;
  /** How the check appears in logs and errors. Default: the function's name. */
  name?: string;
}

/**
 * Ready when a check of your own on the container's state says so, for readiness that is a status rather than a
 * port, a log line or a command: `Wait.forStartupCheck((i) => i.State.Status === "exited" && i.State.ExitCode === 0,
 * { exits: true })`, or "running for 2 s": `(i) => Date.now() - Date.parse(i.State.StartedAt) >= 2000`. It polls the
 * engine's inspect, backing off from 10 ms to `intervalMs`.
 */
export class StartupCheckWaitStrategy extends BaseWaitStrategy {
  readonly expectsExit: boolean;
  private readonly check: StartupCheck;
  private readonly intervalMs: number;
  private readonly name: string;

  constructor(check: StartupCheck, options: StartupCheckOptions = {}) {
    super();
    if (typeof check !== "function") {
      throw new InvalidOptionError("Wait.forStartupCheck(check)", "a function of the container's inspect answer", check);
    }
    const { intervalMs = 250, exits = false, name } = options;
    if (typeof intervalMs !== "number" || !Number.isFinite(intervalMs) || intervalMs < 1) {
      throw new InvalidOptionError("Wait.forStartupCheck({ intervalMs })", "a number of milliseconds of at least 1", intervalMs);
    }
    this.check = check;
    this.intervalMs = intervalMs;
    this.expectsExit = exits === true;
    this.name = name ?? (check.name || "anonymous");
  }

  describe(): string {
    return `startup check ${this.name}`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    await poll(
      context,
      async () => {
        const inspect = await untilAborted(target.inspect(context.signal), context.signal);
        const verdict = await this.check(inspect);
        if (verdict === true) return;
        throw new Error(typeof verdict === "string" && verdict !== "" ? verdict : `not yet (the container is ${inspect.State.Status})`);
      },
      { minIntervalMs: Math.min(10, this.intervalMs), maxIntervalMs: this.intervalMs, factor: 2 },
    );
  }
}
