import { execFileSync } from "node:child_process";
import { getEngine, LABELS } from "throwaway";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getHostname, getPidScope } from "../../src/reaper/session.js";
import { exists, leftOf, NOTHING, newSessionId, type RunningChild, requireBuild, startChild, waitUntilGone } from "./helpers.js";

const IMAGE = process.env.THROWAWAY_TEST_IMAGE ?? "busybox:latest";
const NO_REAPER = { THROWAWAY_REAPER: "off" };

let live: RunningChild;
const kept: string[] = [];

beforeAll(async () => {
  requireBuild();
  live = await startChild(newSessionId(), ["--containers", "1"], NO_REAPER);
});

afterAll(async () => {
  for (const id of kept) execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  if (!live) return;
  live.process.kill("SIGTERM");
  await live.ended;
  expect(leftOf(live.report.session)).toEqual(NOTHING);
});

it("without a reaper, the next run's start-up sweep removes a killed run's leftovers, never a live run's or kept ones", async () => {
  // A run killed with THROWAWAY_REAPER=off: nothing outside it could clean up, so its resources stay...
  const dead = await startChild(newSessionId(), ["--containers", "2", "--network"], NO_REAPER);
  dead.process.kill("SIGKILL");
  await dead.ended;
  for (const id of dead.report.containers) expect(exists("container", id)).toBe(true);
  // ...including one it kept on purpose (as `withReuse` does), which must survive every sweep.
  const engine = await getEngine();
  const keptId = await engine.createContainer(
    {
      Image: IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: {
        [LABELS.session]: dead.report.session,
        [LABELS.pid]: String(dead.report.pid),
        [LABELS.hostname]: getHostname(),
        [LABELS.pidScope]: getPidScope(),
        [LABELS.keep]: "true",
      },
    },
    {},
  );
  kept.push(keptId);

  // The next run (reaper off too) sweeps once its first container is ready.
  const next = await startChild(newSessionId(), ["--containers", "1"], NO_REAPER);
  expect(await waitUntilGone(dead.report.session, { keep: [keptId] })).toEqual({ containers: [keptId], networks: [] });
  expect(exists("container", live.report.containers[0]!)).toBe(true);
  expect(exists("container", next.report.containers[0]!)).toBe(true);
  next.send("exit");
  await next.ended;
});
