import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseEngineTimestamp } from "../lib/docker.mjs";
import { writeReadme } from "../lib/readme.mjs";
import { consoleTable, markdownTable, tableLines } from "../lib/report.mjs";
import { formatStat, median, ratio, summarize } from "../lib/stats.mjs";
import { ratioChart } from "../lib/svg.mjs";

describe("stats", () => {
  it("takes the median of odd and even counts, and ignores missing values", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([3, undefined, 1, Number.NaN, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(summarize([])).toBeUndefined();
  });

  it("gives no ratio against a missing or zero median", () => {
    expect(ratio({ median: 1 }, { median: 4 })).toBe(0.25);
    expect(ratio({ median: 1 }, undefined)).toBeUndefined();
    expect(ratio({ median: 1 }, { median: 0 })).toBeUndefined();
  });

  it("formats a stat as median [min-max]", () => {
    expect(formatStat({ median: 387.4, min: 351, max: 420.2, n: 5 }, "ms")).toBe("387 ms [351-420]");
    expect(formatStat({ median: 4, min: 4, max: 4, n: 3 }, "calls")).toBe("4");
    expect(formatStat({ median: 28.84, min: 26.4, max: 31.3, n: 2 }, "MiB")).toBe("28.8 MiB [26.4-31.3]");
    expect(formatStat({ median: -24.45, min: -63.22, max: 14.3, n: 2 }, "ms")).toBe("-24.4 ms [-63.2-14.3]");
  });
});

describe("parseEngineTimestamp", () => {
  it("keeps the sub-millisecond digits of the engine's RFC 3339 timestamps", () => {
    expect(parseEngineTimestamp("2024-11-29T16:20:00.123456789Z")).toBeCloseTo(Date.UTC(2024, 10, 29, 16, 20, 0) + 123.456789, 6);
    expect(parseEngineTimestamp("2024-11-29T16:20:00Z")).toBe(Date.UTC(2024, 10, 29, 16, 20, 0));
    expect(() => parseEngineTimestamp("yesterday")).toThrow('not an engine timestamp: "yesterday"');
  });
});

/** A results file with one busybox round of each side (plus a warm-up that must be ignored) and a skipped variant. */
function fakeResults() {
  const sample = (variant, round, start, stop) => ({ round, variant, warmup: round === 0, ok: true, values: { start, stop }, info: {} });
  return {
    runId: "test",
    mode: "full",
    startedAt: "2026-01-02T03:04:05.000Z",
    finishedAt: "2026-01-02T03:14:05.000Z",
    machine: {
      cores: 2,
      cpuModel: "cpu",
      memoryBytes: 2 ** 34,
      os: "Debian",
      kernel: "6",
      loadAverageAtStart: [1, 1, 1],
      loadAverageAtEnd: [2, 2, 2],
      docker: { server: "20.10", api: "1.41", client: "28", storageDriver: "overlay2" },
    },
    versions: { node: "v22", nodeSource: "npm", throwaway: "0.1.0", throwawayCommit: "abc", testcontainers: "12.2.0" },
    settings: {
      sides: { throwaway: { THROWAWAY_REAPER: "off" }, testcontainers: { TESTCONTAINERS_RYUK_DISABLED: "true" }, cli: {} },
      removedFromEnvironment: "x",
      pullPolicy: "never",
      builder: "classic",
      cliPollIntervalMs: 2,
      peerNotes: [],
    },
    workloads: [
      {
        id: "busybox",
        variants: [
          { key: "throwaway", column: "throwaway" },
          { key: "testcontainers", column: "testcontainers" },
          { key: "cli", column: "cli" },
        ],
        skipped: {},
        samples: [
          sample("throwaway", 0, 9999, 9999),
          sample("throwaway", 1, 300, 100),
          sample("throwaway", 2, 320, 100),
          sample("testcontainers", 1, 400, 100),
          sample("testcontainers", 2, 400, 100),
          sample("cli", 1, 310, 200),
          { round: 2, variant: "cli", warmup: false, ok: false, error: "boom" },
        ],
      },
      {
        id: "reaper",
        variants: [
          { key: "throwaway-on", column: "throwaway" },
          { key: "throwaway-off", column: "throwaway" },
          { key: "testcontainers-on", column: "testcontainers" },
          { key: "testcontainers-off", column: "testcontainers" },
        ],
        skipped: { "testcontainers-on": "no ryuk image" },
        samples: [
          { round: 1, variant: "throwaway-on", ok: true, values: { start: 440 } },
          { round: 1, variant: "throwaway-off", ok: true, values: { start: 400 } },
          { round: 1, variant: "testcontainers-off", ok: true, values: { start: 800 } },
        ],
      },
    ],
  };
}

describe("tableLines", () => {
  it("takes medians without the warm-up and failed samples, and judges targets by the ratio of medians", () => {
    const [start, stop] = tableLines(fakeResults());
    expect(start.cells.throwaway).toEqual({ median: 310, min: 300, max: 320, n: 2 });
    expect(start.cells.cli).toEqual({ median: 310, min: 310, max: 310, n: 1 });
    expect(start.ratios.testcontainers).toBeCloseTo(0.775, 6);
    expect(start.targetResults).toEqual([
      { text: "<= 0.70x testcontainers", measured: "0.78x", met: false },
      { text: "<= 1.00x CLI", measured: "1.00x", met: true },
    ]);
    expect(stop.targetResults).toEqual([]);
  });

  it("shows a skipped variant as skipped, with its reason listed once", () => {
    const results = fakeResults();
    const on = tableLines(results).find((l) => l.label.includes("reaper on"));
    expect(on.cells.testcontainers).toEqual({ skipped: "no ryuk image" });
    expect(on.ratios.testcontainers).toBeUndefined();
    expect(on.ownRatio.num.median / on.ownRatio.den.median).toBeCloseTo(1.1, 6);
    const table = consoleTable(results);
    expect(table).toContain("throwaway reaper on / off: 1.10x");
    expect(table).toContain("reaper / testcontainers-on: no ryuk image");
    expect(markdownTable(results)).toContain(
      "| 1 | busybox: start to first request | 310 ms [300-320] | 400 ms | 310 ms | 0.78x | 1.00x |",
    );
  });
});

describe("ratioChart and writeReadme", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-readme-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("draws one bar per ratio and a tick per ratio target, escaping labels", () => {
    const lines = tableLines(fakeResults());
    const svg = ratioChart(lines, { title: "a <b> & c", subtitle: "s" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("a &lt;b&gt; &amp; c");
    // busybox start and stop: two ratios each; reaper off: against testcontainers only; reaper on: none (peer skipped).
    expect(svg.match(/height="11" fill="#(2f6fdf|8a8f98)"/g)).toHaveLength(5);
    expect(svg.match(/fill="#d33"/g)).toHaveLength(2 + 1); // two targets, plus the legend's marker
  });

  it("replaces only the text between the markers", () => {
    const readme = join(dir, "README.md");
    const svg = join(dir, "ratios.svg");
    writeFileSync(
      readme,
      "intro\n<!-- bench:results:start (generated by `npm run bench -- --write-readme`; edits here are overwritten) -->\nold\n<!-- bench:results:end -->\noutro\n",
    );
    writeReadme(fakeResults(), { readmePath: readme, svgPath: svg });
    const text = readFileSync(readme, "utf8");
    expect(text.startsWith("intro\n<!-- bench:results:start")).toBe(true);
    expect(text.endsWith("<!-- bench:results:end -->\noutro\n")).toBe(true);
    expect(text).not.toContain("\nold\n");
    expect(text).toContain("- busybox: start to first request: <= 0.70x testcontainers, measured 0.78x");
    expect(readFileSync(svg, "utf8")).toContain("</svg>");
    writeFileSync(readme, "no markers\n");
    expect(() => writeReadme(fakeResults(), { readmePath: readme, svgPath: svg })).toThrow(`${readme} has no results markers`);
  });
});

describe("earlyReadiness", () => {
  it("names the variants whose wait said ready before the service answered, from kept samples only", () => {
    const results = fakeResults();
    const samples = results.workloads[0].samples;
    samples[1].info = { failedRequestsAfterReady: 2 };
    samples[0].info = { failedRequestsAfterReady: 9 }; // warm-up: not counted
    expect(consoleTable(results)).toContain(
      "busybox / throwaway: in 1 of 2 samples the wait said ready before the service answered (2 failed attempts after it)",
    );
  });
});
