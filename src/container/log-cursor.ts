/** `2026-12-04T16:36:23.123456789Z`: RFC 3339 as the engine writes log timestamps (trailing zeros trimmed). */
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)(?:\s|$)/;

/**
 * The Engine API `since` value (`seconds.nanoseconds`) that keeps only log lines after the one given, as read with
 * `timestamps=true`: one nanosecond past its timestamp, since the engine's `since` is inclusive. Both sides are the
 * engine's clock, so this holds for remote engines whose clock differs from ours. `undefined` when the line carries
 * no timestamp.
 */
export function logsSinceAfter(timestampedLine: string): string | undefined {
  const match = TIMESTAMP.exec(timestampedLine);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const nanos = BigInt(ms / 1000) * 1_000_000_000n + BigInt((match[2] ?? "").padEnd(9, "0")) + 1n;
  return `${nanos / 1_000_000_000n}.${(nanos % 1_000_000_000n).toString().padStart(9, "0")}`;
}
