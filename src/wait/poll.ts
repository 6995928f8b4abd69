import pRetry, { AbortError } from "p-retry";
import type { WaitContext } from "./strategy.js";

export interface PollOptions {
  /** First interval between probes (ms). */
  minIntervalMs?: number;
  /** Cap on the interval (ms). */
  maxIntervalMs?: number;
  /** Growth factor per failed probe. */
  factor?: number;
}

/** Thrown by a probe to stop polling at once: the condition can never become true. */
export class PermanentFailure extends Error {
  override name = "PermanentFailure";
}

/** The signal's reason as an Error, so p-retry rethrows it as is. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason ?? "aborted"), { cause: reason });
}

/**
 * Runs `probe` until it resolves, backing off from a short first interval to a cap (a service usually becomes ready
 * within milliseconds of its port opening, so early probes are cheap and frequent). Each failure is recorded in the
 * context for the timeout error; the context's signal (deadline or container exit) ends the loop.
 */
export async function poll<T>(context: WaitContext, probe: () => Promise<T>, options: PollOptions = {}): Promise<T> {
  const minTimeout = options.minIntervalMs ?? 5;
  const maxTimeout = options.maxIntervalMs ?? 100;
  return pRetry(
    async () => {
      if (context.signal.aborted) throw new AbortError(abortReason(context.signal));
      context.attempt();
      try {
        return await probe();
      } catch (error) {
        // A probe cut short by the abort fails with whatever; the wait's outcome is the abort's reason.
        if (context.signal.aborted) throw new AbortError(abortReason(context.signal));
        if (error instanceof PermanentFailure) throw new AbortError(error);
        // p-retry gives up on TypeErrors (programming errors); probes' failures are always worth another try.
        throw error instanceof TypeError ? new Error(error.message, { cause: error }) : error;
      }
    },
    {
      retries: Number.POSITIVE_INFINITY,
      minTimeout,
      maxTimeout,
      factor: options.factor ?? 1.5,
      randomize: false,
      signal: context.signal,
      onFailedAttempt: ({ error }) => context.lastError(error.message),
    },
  );
}
