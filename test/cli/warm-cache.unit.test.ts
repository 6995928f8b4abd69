// The pure parts of the warm-start cache listing: `--older-than` parsing and sizes as `docker images` prints them.

import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/command.js";
import { formatSize, parseOlderThan, warmCacheLines } from "../../src/cli/warm-cache.js";

describe("parseOlderThan", () => {
  it.each([
    ["86400000", 86_400_000],
    ["250ms", 250],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["12h", 43_200_000],
    ["7d", 604_800_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseOlderThan(text)).toBe(ms);
  });

  it.each(["", "7 days", "-1d", "1.5h", "d"])("refuses %j with a usage error naming it", (text) => {
    expect(() => parseOlderThan(text)).toThrow(UsageError);
    expect(() => parseOlderThan(text)).toThrow(`got ${text}`);
  });
});

describe("formatSize and warmCacheLines", () => {
  it("prints decimal units", () => {
    expect([formatSize(512), formatSize(4_300), formatSize(312_400_000), formatSize(1_230_000_000)]).toEqual([
      "512B",
      "4.3kB",
      "312MB",
      "1.2GB",
    ]);
  });

  it("prints nothing for an empty cache, else a heading with the total and a table", () => {
    expect(warmCacheLines([], 0)).toEqual([]);
    const now = Date.parse("2026-01-02T00:00:00Z");
    const image = {
      id: `sha256:${"a".repeat(64)}`,
      ref: "localhost/throwaway-warm/mysql:abc",
      key: "k",
      sizeBytes: 150_000_000,
      createdMs: now - 7_200_000,
      lastUsedMs: now - 300_000,
    };
    expect(warmCacheLines([image], now)).toEqual([
      "warm-start cache: 1 image, 150MB (`throwaway prune --cache` removes them)",
      "IMAGE                               ID            SIZE   LAST USED",
      "localhost/throwaway-warm/mysql:abc  aaaaaaaaaaaa  150MB  5m",
    ]);
  });
});
