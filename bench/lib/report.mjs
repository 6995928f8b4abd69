import { formatRatio, formatStat, formatValue, ratio, summarize } from "./stats.mjs";
import { WORKLOADS } from "./workloads.mjs";

/**
 * Turns a results file into table lines (one metric each, with throwaway / testcontainers / CLI columns, ratios and
 * targets), and renders them for the terminal and for bench/README.md. Works from the results JSON alone, so the
 * README can be regenerated without running anything.
 */

const COLUMN_NAMES = { throwaway: "throwaway", testcontainers: "testcontainers", cli: "docker CLI" };

/**
 * variant -> metric -> stat, plus `skipped` for variants that were skipped; and variant -> raw values (for lines that
 * derive from samples, such as RSS growth).
 * @param {any} workloadResult
 */
export function summarizeWorkload(workloadResult) {
  const summary = {};
  const samplesByVariant = {};
  for (const variant of workloadResult.variants) {
    const key = variant.key;
    if (workloadResult.skipped?.[key]) {
      summary[key] = { skipped: workloadResult.skipped[key] };
      continue;
    }
    const kept = workloadResult.samples.filter((x) => x.variant === key && !x.warmup && x.ok);
    samplesByVariant[variant.column === "baseline" ? key : variant.column] ??= [];
    if (variant.column !== "baseline") samplesByVariant[variant.column].push(...kept.map((x) => x.values));
    const metrics = new Set(kept.flatMap((x) => Object.keys(x.values)));
    summary[key] = {};
    for (const metric of metrics) summary[key][metric] = summarize(kept.map((x) => x.values[metric]));
  }
  return { summary, samplesByVariant };
}

function checkTarget(target, line) {
  if (target.kind === "difference") {
    // throwaway's median minus the other column's: for latencies, where a ratio against a floor of a few ms says little.
    const own = line.cells.throwaway;
    const other = line.cells[target.against];
    const value = own && other && !own.skipped && !other.skipped ? own.median - other.median : undefined;
    return {
      text: target.text,
      measured: value === undefined ? "-" : `${value < 0 ? "-" : "+"}${formatValue(Math.abs(value), line.unit)}`,
      met: value === undefined ? undefined : value <= target.max,
    };
  }
  if (target.kind === "ratio") {
    const value = line.ratios[target.against];
    const text = target.text ?? `<= ${target.max.toFixed(2)}x ${target.against === "cli" ? "CLI" : target.against}`;
    return { text, measured: value === undefined ? "-" : formatRatio(value), met: value === undefined ? undefined : value <= target.max };
  }
  const stat = line.cells.throwaway;
  const value = stat && !stat.skipped ? stat.median : undefined;
  const text = target.text ?? `<= ${target.max}`;
  return {
    text,
    measured: value === undefined ? "-" : formatValue(value, line.unit),
    met: value === undefined ? undefined : target.strict ? value < target.max : value <= target.max,
  };
}

/** Every table line of a results file, with ratios and target verdicts. */
export function tableLines(results) {
  const lines = [];
  for (const workloadResult of results.workloads) {
    const workload = WORKLOADS.find((w) => w.id === workloadResult.id);
    if (!workload) continue;
    const { summary, samplesByVariant } = summarizeWorkload(workloadResult);
    for (const line of workload.lines(summary, samplesByVariant)) {
      const tw = line.cells.throwaway?.skipped ? undefined : line.cells.throwaway;
      const ratios = {
        testcontainers: line.cells.testcontainers?.skipped ? undefined : ratio(tw, line.cells.testcontainers),
        cli: line.cells.cli?.skipped ? undefined : ratio(tw, line.cells.cli),
      };
      const full = { ...line, workload: line.number ?? workload.number, workloadId: workload.id, ratios };
      full.targetResults = (line.targets ?? []).map((t) => checkTarget(t, full));
      lines.push(full);
    }
  }
  return lines;
}

function cellText(cell, unit) {
  if (cell === undefined) return "-";
  if (cell.skipped) return "skipped";
  return formatStat(cell, unit);
}

function targetText(line) {
  if (!line.targetResults.length) return "";
  return line.targetResults
    .map((t) => `${t.text}: ${t.measured} ${t.met === undefined ? "(no data)" : t.met ? "met" : "MISSED"}`)
    .join("; ");
}

function notes(line) {
  const parts = [];
  if (line.ownRatio) parts.push(`${line.ownRatio.label}: ${formatRatio(line.ownRatio.num.median / line.ownRatio.den.median)}`);
  if (line.note) parts.push(line.note);
  return parts;
}

/** The skip reasons behind "skipped" cells, once each. */
export function skipReasons(results) {
  const reasons = [];
  for (const w of results.workloads) {
    for (const [variant, reason] of Object.entries(w.skipped ?? {})) reasons.push(`${w.id} / ${variant}: ${reason}`);
    if (w.status === "skipped") reasons.push(`${w.id}: ${w.reason}`);
  }
  return [...new Set(reasons)];
}

/** One line per variant with failed samples: how many, and the first error's first line. */
export function failedSamples(results) {
  const out = [];
  for (const w of results.workloads) {
    for (const variant of w.variants) {
      const failed = w.samples.filter((x) => x.variant === variant.key && !x.ok && !x.skip);
      if (!failed.length) continue;
      const all = w.samples.filter((x) => x.variant === variant.key && !x.skip).length;
      out.push(`${w.id} / ${variant.key}: ${failed.length} of ${all} samples failed: ${String(failed[0].error ?? "").split("\n")[0]}`);
    }
  }
  return out;
}

/** Info fields that count requests or queries that failed after a library said "ready": each one is a wait that returned early. */
const EARLY = ["failedRequestsAfterReady", "failedQueriesAfterReady", "failedQueriesAfterRestore"];

/** One line per variant whose "ready" was followed by failing requests, in any kept sample. */
export function earlyReadiness(results) {
  const out = [];
  for (const w of results.workloads) {
    for (const variant of w.variants) {
      const samples = w.samples.filter((x) => x.variant === variant.key && !x.warmup && x.ok);
      const early = samples.filter((x) => EARLY.some((k) => (x.info?.[k] ?? 0) > 0));
      if (early.length) {
        const total = early.reduce((sum, x) => sum + EARLY.reduce((n, k) => n + (x.info?.[k] ?? 0), 0), 0);
        out.push(
          `${w.id} / ${variant.key}: in ${early.length} of ${samples.length} samples the wait said ready before the service answered (${total} failed attempts after it)`,
        );
      }
    }
  }
  return out;
}

/** A plain-text table for the terminal. */
export function consoleTable(results) {
  const lines = tableLines(results);
  const header = ["#", "metric", "throwaway", "testcontainers", "docker CLI", "tw/tc", "tw/CLI", "target"];
  const rows = lines.map((l) => [
    l.workload,
    l.label,
    cellText(l.cells.throwaway, l.unit),
    cellText(l.cells.testcontainers, l.unit),
    cellText(l.cells.cli, l.unit),
    formatRatio(l.ratios.testcontainers),
    formatRatio(l.ratios.cli),
    targetText(l),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r) =>
    r
      .map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)];
  const extra = lines.flatMap((l) => notes(l).map((n) => `  ${l.label}: ${n}`));
  if (extra.length) out.push("", "notes:", ...extra);
  const early = earlyReadiness(results);
  if (early.length) out.push("", "ready too early:", ...early.map((s) => `  ${s}`));
  const skips = skipReasons(results);
  if (skips.length) out.push("", "skipped:", ...skips.map((s) => `  ${s}`));
  return out.join("\n");
}

/** The results table in Markdown, for bench/README.md. */
export function markdownTable(results) {
  const lines = tableLines(results);
  const out = [
    "| # | metric | throwaway | testcontainers | docker CLI | throwaway / testcontainers | throwaway / CLI | target |",
    "|---|---|--:|--:|--:|--:|--:|---|",
  ];
  for (const l of lines) {
    const n = notes(l);
    const label = n.length ? `${l.label} (${n.join("; ")})` : l.label;
    out.push(
      `| ${l.workload} | ${label} | ${cellText(l.cells.throwaway, l.unit)} | ${cellText(l.cells.testcontainers, l.unit)} | ${cellText(l.cells.cli, l.unit)} | ${formatRatio(l.ratios.testcontainers)} | ${formatRatio(l.ratios.cli)} | ${targetText(l)} |`,
    );
  }
  return out.join("\n");
}

export { COLUMN_NAMES };
