import { describe, expect, it } from "vitest";
import { channels } from "../../src/debug.js";
import { codeSpans, sourceFiles, tableUnder } from "./readme-tables.js";

/**
 * The area of each `debug(area, message)` call in src, as the README writes it: a literal as is, a container's or a
 * network's short id as `<id>`; an `area` variable is read from its `const area = ...` in the same file.
 */
function debugAreas(): Set<string> {
  const areas = new Set<string>();
  const normalise = (argument: string, file: string, text: string): string => {
    const literal = /^["'`]([^"'`$]*)["'`]$/.exec(argument);
    if (literal) return literal[1] as string;
    const withId = /^`(container|network) \$\{[^}]*\}`$/.exec(argument);
    if (withId) return `${withId[1]} <id>`;
    const variable = /^[a-zA-Z]\w*$/.test(argument) ? new RegExp(`const ${argument} = (.+);`).exec(text)?.[1] : undefined;
    if (variable) return normalise(variable.trim(), file, text);
    throw new Error(`${file}: cannot read the debug area ${argument}`);
  };
  for (const { path, text } of sourceFiles()) {
    if (path === "src/debug.ts") continue;
    // The first argument of each call: up to the comma that ends it (areas never contain one outside `${}`).
    for (const m of text.matchAll(/\bdebug\(\s*((?:`[^`]*`|"[^"]*"|'[^']*'|[a-zA-Z]\w*))\s*,/g)) {
      areas.add(normalise(m[1] as string, path, text));
    }
  }
  return areas;
}

describe("README's debugging lists", () => {
  it("names every NODE_DEBUG area the code writes, and no other", () => {
    const listed = tableUnder("### Debug log areas").flatMap((row) => codeSpans(row[0] ?? ""));
    expect(listed.sort()).toEqual([...debugAreas()].sort());
  });

  it("names every diagnostics channel, each of which the code publishes", () => {
    const declared = Object.values(channels).map((c) => String(c.name));
    const listed = tableUnder("### Diagnostics channels").flatMap((row) => codeSpans(row[0] ?? ""));
    expect(listed.sort()).toEqual([...declared].sort());
    const published = sourceFiles()
      .flatMap(({ text }) => [...text.matchAll(/\bchannels\.(\w+)\.publish\(/g)].map((m) => m[1] as string))
      .map((key) => String(channels[key as keyof typeof channels].name));
    expect([...new Set(published)].sort()).toEqual([...declared].sort());
  });
});
