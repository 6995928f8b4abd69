// .dockerignore reading and matching, pure; what the engine gets from it, compared with the docker CLI, is
// dockerignore.test.ts.
import { describe, expect, it } from "vitest";
import { ContextMatcher, parseDockerignore } from "../../src/image/dockerignore.js";

describe("parseDockerignore", () => {
  it("cleans patterns as Docker's ReadAll does", () => {
    expect(parseDockerignore("\uFEFF# comment\n\n  /a/  \n!  ./b/../c\n #not a comment\n**/x/\n!\n")).toEqual([
      "a",
      "!c",
      "#not a comment",
      "**/x",
      "!",
    ]);
  });
});

describe("ContextMatcher", () => {
  it("matches paths, parents and exceptions in order, case-sensitively", () => {
    const matcher = new ContextMatcher(parseDockerignore("docs\n!docs/README.md\n*.md\n!KEEP.md"));
    expect(matcher.excludes("docs/guide.md")).toBe(true);
    expect(matcher.excludes("docs/README.md")).toBe(false); // `*.md` does not reach into docs/: `*` stops at `/`
    expect(matcher.excludes("README.md")).toBe(true);
    expect(matcher.excludes("KEEP.md")).toBe(false);
    expect(matcher.excludes("keep.MD")).toBe(false);
  });

  it("walks into an excluded directory only when an exception starts inside it", () => {
    const matcher = new ContextMatcher(parseDockerignore("*\n!src/keep\n!**/*.md"));
    expect(matcher.canSkipDirectory("src")).toBe(false);
    expect(matcher.canSkipDirectory("docs")).toBe(true);
  });
});
