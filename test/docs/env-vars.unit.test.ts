import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeSpans, ROOT, sourceFiles, tableUnder } from "./readme-tables.js";

const CONFIG = "src/config.ts";

/** Ways a source file can get at a THROWAWAY_* variable without config.ts. */
const DIRECT_READS: [string, RegExp][] = [
  ["reads it as a property", /\benv\??\.THROWAWAY_[A-Z0-9_]+/g],
  ["reads it by a literal key", /\benv\??\[\s*["'`]THROWAWAY_[A-Z0-9_]+/g],
  ["keeps its name in a constant (to read it by)", /\b(?:const|let|var)\s+\w+\s*(?::\s*\w+\s*)?=\s*["'`]THROWAWAY_[A-Z0-9_]+["'`]/g],
  ["parses it with durationFromEnv", /\bdurationFromEnv\(/g],
];

describe("THROWAWAY_* environment variables", () => {
  it("are read in src/config.ts only", () => {
    const offenders = sourceFiles()
      .filter((file) => file.path !== CONFIG && file.path !== "src/duration.ts")
      .flatMap((file) =>
        DIRECT_READS.flatMap(([how, pattern]) => [...file.text.matchAll(pattern)].map((m) => `${file.path} ${how}: ${m[0]}`)),
      );
    expect(offenders).toEqual([]);
  });

  it("are each in the README's one table (name, unit, default, effect), and the table lists nothing else", () => {
    const config = readFileSync(join(ROOT, CONFIG), "utf8");
    const read = new Set([...config.matchAll(/["'`](THROWAWAY_[A-Z0-9_]+)["'`]/g)].map((m) => m[1] as string));
    const rows = tableUnder("## Environment variables");
    const listed = rows.flatMap((row) => codeSpans(row[0] ?? "")).filter((name) => name.startsWith("THROWAWAY_"));
    expect([...new Set(listed)].sort()).toEqual([...read].sort());
    for (const row of rows.filter((r) => (r[0] ?? "").includes("THROWAWAY_"))) {
      expect(row, `README row ${row[0]}: variable, unit, default, effect`).toHaveLength(4);
      expect(row.every((cell) => cell !== "")).toBe(true);
    }
  });
});
