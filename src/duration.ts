import { InvalidOptionError } from "./errors.js";

/** The longest delay Node's timers keep: a longer one fires at once (a TimeoutOverflowWarning, not an error). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export interface DurationRange {
  /** Whether 0 is allowed (e.g. a grace period); else the least is 1 ms. */
  allowZero?: boolean;
  /** The ceiling (ms); default and upper bound {@link MAX_DURATION_MS}. */
  max?: number;
}

const HINT = "durations are whole milliseconds, e.g. 30000 for 30 s";

/**
 * The one check for every duration, option or environment variable: a finite number of milliseconds within the
 * range, rounded to a whole one (timers and `AbortSignal.timeout` refuse fractions). `received` is what the user
 * wrote, shown in the error (an env var's raw text).
 */
export function normalizeDuration(option: string, value: unknown, range: DurationRange = {}, received: unknown = value): number {
  const min = range.allowZero ? 0 : 1;
  const max = Math.min(range.max ?? MAX_DURATION_MS, MAX_DURATION_MS);
  const rounded = typeof value === "number" && Number.isFinite(value) ? Math.round(value) : Number.NaN;
  // A positive fraction under 1 ms rounds up: it means "as soon as possible", not "never".
  const whole = !range.allowZero && value !== 0 && rounded === 0 && (value as number) > 0 ? 1 : rounded;
  if (!(whole >= min && whole <= max) || (value as number) < 0) {
    throw new InvalidOptionError(option, `a duration in milliseconds from ${min} to ${max}`, received, { hint: HINT });
  }
  return whole;
}

/** A duration from the environment variable `name`, or `fallback` when it is unset or blank. */
export function durationFromEnv(name: string, fallback: number, range: DurationRange = {}): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  return normalizeDuration(name, Number(raw), range, raw);
}

/** A validated duration times a factor (`THROWAWAY_STARTUP_TIMEOUT_SCALE`): whole, and within what timers keep. */
export function scaleDuration(ms: number, factor: number): number {
  return Math.min(MAX_DURATION_MS, Math.max(1, Math.round(ms * factor)));
}
