import * as root from "throwaway";
import * as compose from "throwaway/compose";
import * as mysql from "throwaway/mysql";
import * as vitest from "throwaway/vitest";
import { expect, it } from "vitest";
import { codeSpans, sourceFiles, tableUnder } from "./readme-tables.js";

/** Exported Error classes that throwaway does not throw: the base class, and what a custom probe throws to stop polling. */
const NOT_IN_TABLE = new Set(["ThrowawayError", "PermanentFailure"]);

it("the README's error table lists every exported error class with its code, and nothing else", () => {
  const exported = new Map<string, string | undefined>();
  for (const entry of [root, mysql, compose, vitest] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(entry)) {
      if (typeof value !== "function" || !(value.prototype instanceof Error) || NOT_IN_TABLE.has(name)) continue;
      exported.set(name, (value as { CODE?: string }).CODE);
    }
  }
  const listed = new Map<string, string | undefined>();
  for (const [classes = "", codes = ""] of tableUnder("## Errors")) {
    // A row's class names come first in its cell (a note in parentheses may name other things).
    const names = codeSpans(classes.replace(/\(.*\)/g, ""));
    const values = codeSpans(codes);
    expect(values, `README error row ${classes}: one code per class`).toHaveLength(names.length);
    for (const [i, name] of names.entries()) listed.set(name, values[i]);
  }
  expect(Object.fromEntries([...listed].sort())).toEqual(Object.fromEntries([...exported].sort()));
});

it("every error class the sources declare is exported by an entry point", () => {
  const declared = sourceFiles().flatMap(({ text }) =>
    [...text.matchAll(/^export class (\w+) extends \w*Error\b/gm)].map((m) => m[1] as string),
  );
  const exported = new Set([root, mysql, compose, vitest].flatMap((entry) => Object.keys(entry)));
  const internal = ["PermanentFailure", "InterpolationProblem", "DotenvProblem", "DeadlineReached", "OutputEnded", "UsageError"];
  expect(declared.filter((name) => !exported.has(name) && !internal.includes(name))).toEqual([]);
});
