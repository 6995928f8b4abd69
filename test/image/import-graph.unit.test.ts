import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * `src/image` builds images; containers for them come from a factory the container module hands over. These tests
 * read the source's import graph so an import from image code into container code (static, dynamic or re-export,
 * direct or through another module) cannot creep back and re-form the cycle.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Every module a file imports, type-only imports included (they are what makes the module depend on another). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms),
    ...text.matchAll(/^\s*import\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
    ...text.matchAll(/^declare module\s+"([^"]+)"/gm),
  ].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Files under `src/<folder>` that reach `src/<target>` through imports, each with the chain that gets there. */
function pathsInto(folder: string, target: string, transitive: boolean): string[] {
  const into = join(SRC, target) + "/";
  const found: string[] = [];
  for (const start of sourceFiles(join(SRC, folder))) {
    const seen = new Set<string>([start]);
    const queue: string[][] = [[start]];
    while (queue.length) {
      const chain = queue.shift()!;
      for (const next of importsOf(chain.at(-1)!)) {
        if (seen.has(next)) continue;
        seen.add(next);
        const path = [...chain, next];
        if (next.startsWith(into)) found.push(path.map((p) => relative(SRC, p)).join(" -> "));
        else if (transitive) queue.push(path);
      }
    }
  }
  return found;
}

describe("src/image import graph", () => {
  it("the reader sees the imports it must (else the checks below pass on nothing)", () => {
    const builder = importsOf(join(SRC, "image/build.ts")).map((p) => relative(SRC, p));
    expect(builder).toEqual(expect.arrayContaining(["engine/current.ts", "image/build-cache.ts", "image/build-context.ts"]));
    expect(pathsInto("container", "image", false).length).toBeGreaterThan(0);
  });

  it("no file in src/image imports src/container", () => {
    expect(pathsInto("image", "container", false)).toEqual([]);
  });

  it("nothing src/image imports leads into src/container either", () => {
    expect(pathsInto("image", "container", true)).toEqual([]);
  });
});
