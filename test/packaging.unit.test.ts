// What `npm install throwaway` gets: the built package and its README, nothing of the repository's tests, bench,
// examples or engine scripts (the CLI runs none of them), no TypeScript sources but the declarations.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Manifest {
  bin: Record<string, string>;
  exports: Record<string, string | { types?: string; import?: string }>;
}

let files: string[];
let manifest: Manifest;

beforeAll(() => {
  expect(existsSync(`${ROOT}dist/index.js`), "no dist/index.js: run `npm run build` first").toBe(true);
  // --ignore-scripts: prepack would rebuild dist, under other tests that may be using it.
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  files = pack!.files.map((f) => f.path).sort();
  manifest = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as Manifest;
});

describe("npm pack", () => {
  it("ships dist, the README and package.json, and nothing else", () => {
    expect(files.filter((f) => !f.startsWith("dist/"))).toEqual(["README.md", "package.json"]);
  });

  it("ships no tests, bench, examples, sources, scripts, images or source maps", () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|bench|examples|src|scripts|images)\//.test(f) ||
        /\.(test|spec)\.[cm]?[jt]s$/.test(f) ||
        (/\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)) ||
        f.endsWith(".map"),
    );
    expect(unwanted).toEqual([]);
  });

  it("ships every file package.json points at: the entry points, their types and the CLI", () => {
    const targets = [
      ...Object.values(manifest.bin),
      ...Object.values(manifest.exports).flatMap((e) => (typeof e === "string" ? [e] : [e.types, e.import])),
    ]
      .filter((t): t is string => t !== undefined)
      .map((t) => t.replace(/^\.\//, ""));
    expect(targets).toContain("dist/cli/main.js");
    expect(targets.filter((t) => !files.includes(t))).toEqual([]);
  });

  it("ships the data the built code reads at run time (the vendored compose schema)", () => {
    expect(files).toContain("dist/compose/schema/compose-spec.json");
  });
});
