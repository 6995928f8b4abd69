import { describe, expect, it } from "vitest";
import { LABELS } from "../../src/labels.js";
import type { OwnedResource } from "../../src/reaper/inventory.js";
import { judgeSession, mayReap, selectForRemoval, type Vantage, viewSessions } from "../../src/reaper/liveness.js";

// Pure decisions, judged from a fake vantage point: host "ci-1", pid space "boot/ns", pids 100 and 200 running.
const vantage: Vantage = {
  hostname: "ci-1",
  pidScope: "boot/ns",
  sessionId: "mine",
  isPidAlive: (pid) => pid === 100 || pid === 200,
};

function resource(session: string, pid: number | undefined, extra: Record<string, string> = {}, kind: OwnedResource["kind"] = "container") {
  const labels: Record<string, string> = {
    [LABELS.session]: session,
    [LABELS.hostname]: "ci-1",
    [LABELS.pidScope]: "boot/ns",
    ...(pid === undefined ? {} : { [LABELS.pid]: String(pid) }),
    ...extra,
  };
  return {
    kind,
    id: `${kind}-${session}-${pid}-${Object.values(extra).join("")}`,
    name: "",
    labels,
    createdMs: 1000,
    state: "",
  } satisfies OwnedResource;
}

describe("judgeSession", () => {
  it("is alive while any creator pid runs here", () => {
    expect(judgeSession("s", [resource("s", 300), resource("s", 100)], vantage)).toEqual({
      id: "s",
      status: "alive",
      reason: "pid 100 is running",
      pids: [100, 300],
    });
  });

  it("is dead only when every creator pid is gone from this pid space", () => {
    expect(judgeSession("s", [resource("s", 300), resource("s", 301)], vantage)).toEqual({
      id: "s",
      status: "dead",
      reason: "pids 300, 301 are gone",
      pids: [300, 301],
    });
  });

  it("cannot tell when a creator ran on another host, even if the others are gone", () => {
    const other = resource("s", 100, { [LABELS.hostname]: "ci-2" });
    expect(judgeSession("s", [resource("s", 300), other], vantage)).toMatchObject({ status: "unknown", reason: "created on host ci-2" });
  });

  it("cannot tell for another pid namespace on the same host (containers with --network host share its name)", () => {
    const other = resource("s", 300, { [LABELS.pidScope]: "boot/other-ns" });
    expect(judgeSession("s", [other], vantage)).toMatchObject({ status: "unknown", reason: "created in another pid namespace or boot" });
  });

  it("cannot tell without a pid label", () => {
    expect(judgeSession("s", [resource("s", undefined)], vantage)).toMatchObject({ status: "unknown", reason: "no creator pid label" });
  });

  it("always counts this process's own session alive", () => {
    expect(judgeSession("mine", [resource("mine", 300)], vantage)).toMatchObject({ status: "alive", reason: "this process's own session" });
  });
});

describe("selectForRemoval", () => {
  const sessions = viewSessions(
    [
      resource("dead", 300),
      resource("dead", 300, { [LABELS.keep]: "true" }),
      resource("alive", 100),
      resource("far", 300, { [LABELS.hostname]: "ci-2" }),
      resource("mine", 300),
    ],
    vantage,
  );
  const ids = (list: OwnedResource[]) => list.map((r) => r.id).sort();

  it("groups by session and judges each", () => {
    expect(sessions.map((s) => [s.id, s.status])).toEqual([
      ["alive", "alive"],
      ["dead", "dead"],
      ["far", "unknown"],
      ["mine", "alive"],
    ]);
  });

  it("takes dead sessions' resources, never kept ones", () => {
    expect(ids(selectForRemoval(sessions, "dead", { ownSessionId: "mine" }))).toEqual(["container-dead-300-"]);
  });

  it("takes kept ones only when asked", () => {
    expect(ids(selectForRemoval(sessions, "dead", { ownSessionId: "mine", includeKept: true }))).toEqual([
      "container-dead-300-",
      "container-dead-300-true",
    ]);
  });

  it("with `all` takes every session's but this process's own", () => {
    expect(ids(selectForRemoval(sessions, "all", { ownSessionId: "mine" }))).toEqual([
      "container-alive-100-",
      "container-dead-300-",
      "container-far-300-ci-2",
    ]);
  });
});

describe("mayReap (the watchdog of an ended session)", () => {
  const known = new Set([100]);

  it("reaps what a known client created, even while that pid still shows (a zombie not yet collected)", () => {
    expect(mayReap(resource("s", 100), known, vantage)).toBe(true);
  });

  it("reaps what a dead, unknown process created", () => {
    expect(mayReap(resource("s", 300), known, vantage)).toBe(true);
  });

  it("spares what a live process it never heard of created (it joined while the watchdog was reaping)", () => {
    expect(mayReap(resource("s", 200), known, vantage)).toBe(false);
  });

  it("spares kept resources", () => {
    expect(mayReap(resource("s", 300, { [LABELS.keep]: "true" }), known, vantage)).toBe(false);
  });

  it("spares what was created on another host; reaps what carries no creator at all", () => {
    expect(mayReap(resource("s", 300, { [LABELS.hostname]: "ci-2" }), known, vantage)).toBe(false);
    expect(mayReap(resource("s", undefined), known, vantage)).toBe(true);
  });
});
