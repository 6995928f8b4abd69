/**
 * Summaries of samples. Medians, not means: on a shared 2-core machine one sample that lost the CPU to a neighbour
 * would drag a mean; the median ignores it and min/max still show it happened.
 */

/** @param {number[]} values */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * @param {number[]} values
 * @returns {{ median: number, min: number, max: number, n: number } | undefined} undefined when there is no sample
 */
export function summarize(values) {
  const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length };
}

/**
 * `a / b` of two medians; undefined when either side is missing or the denominator is zero (a ratio against
 * nothing means nothing).
 * @param {{ median: number } | undefined} a
 * @param {{ median: number } | undefined} b
 */
export function ratio(a, b) {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median) || b.median === 0) return undefined;
  return a.median / b.median;
}

/** Milliseconds with a precision that matches what they can mean: `0.42`, `12.3`, `387`. */
export function formatMs(value) {
  if (!Number.isFinite(value)) return "-";
  // By size, whatever the sign: a latency under load can come out below zero (the engine timestamped the line late).
  const size = Math.abs(value);
  if (size < 1) return value.toFixed(2);
  if (size < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** A ratio as users read it: `0.62x`. */
export function formatRatio(value) {
  if (value === undefined || !Number.isFinite(value)) return "-";
  if (value < 0.1) return `${value.toFixed(3)}x`;
  return `${value.toFixed(2)}x`;
}

/**
 * One value with its unit.
 * @param {number} value
 * @param {string} unit `ms`, `MiB` or `calls`
 */
export function formatValue(value, unit) {
  if (!Number.isFinite(value)) return "-";
  if (unit === "ms") return `${formatMs(value)} ms`;
  if (unit === "MiB") return `${value.toFixed(1)} MiB`;
  if (unit === "calls") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

/**
 * `387 ms [351-420]`: the median with the range, the way the table shows a stat.
 * @param {{ median: number, min: number, max: number, n: number } | undefined} stat
 * @param {string} unit
 */
export function formatStat(stat, unit) {
  if (!stat) return "-";
  const m = formatValue(stat.median, unit);
  if (stat.n === 1 || stat.min === stat.max) return m;
  const strip = (v) => formatValue(v, unit).replace(/ (ms|MiB)$/, "");
  return `${m} [${strip(stat.min)}-${strip(stat.max)}]`;
}
