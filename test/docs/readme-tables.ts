import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");

/** The README's text. */
export const readme = (): string => readFileSync(join(ROOT, "README.md"), "utf8");

/**
 * The rows of the first table under a README heading: each row's cells, trimmed, header and rule left out. Tables
 * are the contract users read, so the tests compare code against them rather than against a copy of their own.
 */
export function tableUnder(heading: string, text = readme()): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`README has no heading ${JSON.stringify(heading)}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("#")) break;
    if (!line.startsWith("|")) {
      if (rows.length > 0) break;
      continue;
    }
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(2);
}

/** Every `code` span in a cell: `A`, `B` -> ["A", "B"]. */
export const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The library's own sources: every .ts under src, tests left out, paths relative to the root. */
export function sourceFiles(): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        files.push({ path: relative(ROOT, full), text: readFileSync(full, "utf8") });
      }
    }
  };
  walk(join(ROOT, "src"));
  return files;
}
