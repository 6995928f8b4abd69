import { readFileSync } from "node:fs";
import * as root from "throwaway";
import * as compose from "throwaway/compose";
import * as mysql from "throwaway/mysql";
import * as vitest from "throwaway/vitest";
import { expect, it } from "vitest";

// The runtime names each entry point exports, against the list committed beside this test: a name that appears or
// goes away fails here, so the public surface changes only on purpose (update public-surface.json in the same
// commit, and give a removed name that README documents a deprecated alias).
const committed = JSON.parse(readFileSync(new URL("./public-surface.json", import.meta.url), "utf8")) as Record<string, string[]>;

it.each([
  ["throwaway", root],
  ["throwaway/mysql", mysql],
  ["throwaway/compose", compose],
  ["throwaway/vitest", vitest],
] as const)("%s exports exactly its committed names", (entry, module) => {
  expect(Object.keys(module).sort()).toEqual(committed[entry]);
});

it("the committed list covers every entry point in package.json", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { exports: Record<string, unknown> };
  const entries = Object.keys(pkg.exports)
    .filter((key) => key !== "./package.json")
    .map((key) => (key === "." ? "throwaway" : `throwaway/${key.slice(2)}`));
  expect(Object.keys(committed).sort()).toEqual(entries.sort());
});
