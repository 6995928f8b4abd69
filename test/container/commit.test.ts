// container.commit() against the real engine: the image holds the container's files and the changes, carries
// author and comment, and is kept or goes with the session as asked.

import { execFileSync } from "node:child_process";
import { GenericContainer, getSessionId, InvalidOptionError, LABELS, Wait } from "throwaway";
import { afterAll, describe, expect, it } from "vitest";
import { trackedResources } from "../../src/reaper/tracker.js";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const made: string[] = [];

afterAll(() => {
  for (const image of made) execFileSync("docker", ["rmi", "-f", image], { stdio: "ignore" });
});

function imageInspect(ref: string): { Id: string; Author: string; Comment: string; Config: { Labels: Record<string, string> | null } } {
  return JSON.parse(execFileSync("docker", ["image", "inspect", ref], { encoding: "utf8" }))[0];
}

function idle() {
  return new GenericContainer("busybox:latest").withCommand(IDLE).withWaitStrategy(Wait.forSuccessfulCommand(["true"]));
}

describe("commit", () => {
  it("deleteOnExit: false makes a kept image of the container's files, with author, comment and changes, named repo:tag", async () => {
    await using c = await idle().start();
    await c.exec(["sh", "-c", "echo committed > /state.txt"]);
    const repo = `throwaway-test-commit-${process.pid}`;
    const name = await c.commit({
      repo,
      tag: "v1",
      author: "tests",
      comment: "a snapshot",
      changes: ["ENV MODE=snapshot"],
      deleteOnExit: false,
    });
    made.push(name);
    expect(name).toBe(`${repo}:v1`);
    const inspect = imageInspect(name);
    expect([inspect.Author, inspect.Comment]).toEqual(["tests", "a snapshot"]);
    expect(inspect.Config.Labels?.[LABELS.keep]).toBe("true");
    expect(trackedResources().some((r) => r.kind === "image" && r.id === inspect.Id)).toBe(false);

    const { stdout } = await new GenericContainer(name).withCommand(["sh", "-c", 'cat /state.txt; echo "$MODE"']).run();
    expect(stdout).toBe("committed\nsnapshot\n");
  });

  it("by default the image (by id) carries this session's labels, not the keep label, and is tracked", async () => {
    await using c = await idle().start();
    const id = await c.commit();
    made.push(id);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const labels = imageInspect(id).Config.Labels ?? {};
    expect(labels[LABELS.session]).toBe(getSessionId());
    expect(labels[LABELS.keep]).toBeUndefined();
    expect(trackedResources().some((r) => r.kind === "image" && r.id === id)).toBe(true);
  });

  it("bad options are InvalidOptionErrors naming them", async () => {
    await using c = await idle().start();
    for (const [options, option] of [
      [{ repo: "Upper/Case" }, "commit({ repo })"],
      [{ tag: "v1" }, "commit({ tag })"],
      [{ changes: ["ENV A=1\nENV B=2"] }, "commit({ changes })"],
    ] as const) {
      const error = await c.commit(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });
});
