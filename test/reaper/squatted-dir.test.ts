import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftOf, NOTHING, newSessionId, requireBuild, startChild, waitUntilGone } from "./helpers.js";

// Another local user (here: `nobody`) created our usual folder first. Each case gets a TMPDIR of its own: never the
// real one, which the other test processes on this machine use.
const OTHER_UID = 65534;
const uid = process.getuid?.() ?? 0;
const isolated: string[] = [];
const servers: Server[] = [];

function squattedTmpdir(): { tmp: string; squatted: string } {
  const tmp = mkdtempSync(join(tmpdir(), "throwaway-squat-test-"));
  isolated.push(tmp);
  const squatted = join(tmp, `throwaway-${uid}`);
  mkdirSync(squatted);
  chmodSync(squatted, 0o777);
  chownSync(squatted, OTHER_UID, OTHER_UID);
  return { tmp, squatted };
}

/** The child runs with this TMPDIR and nothing else pointing it elsewhere. */
const childEnv = (tmp: string) => ({ TMPDIR: tmp, XDG_RUNTIME_DIR: "", THROWAWAY_REAPER_DIR: "", THROWAWAY_REAPER: "on" });

/** Removes what a failed case left on the engine, so a red test leaks nothing either. */
function cleanUp(session: string): void {
  const { containers, networks } = leftOf(session);
  if (containers.length) execFileSync("docker", ["rm", "-f", ...containers], { stdio: "ignore" });
  if (networks.length) execFileSync("docker", ["network", "rm", ...networks], { stdio: "ignore" });
}

beforeAll(() => {
  requireBuild();
  if (uid !== 0) throw new Error("These cases hand a folder to another user (chown): run them as root");
});

afterAll(() => {
  for (const server of servers) server.close();
  for (const dir of isolated) rmSync(dir, { recursive: true, force: true });
});

describe("a socket folder another user created first", () => {
  it("does not stop the reaper: a SIGKILLed process's containers are still removed", async () => {
    const { tmp } = squattedTmpdir();
    const session = newSessionId();
    try {
      const child = await startChild(session, ["--containers", "1"], childEnv(tmp));
      expect(child.report.containers).toHaveLength(1);
      expect(child.stderr()).not.toContain("THROWAWAY_REAPER");
      child.process.kill("SIGKILL");
      await child.ended;
      expect(await waitUntilGone(session)).toEqual(NOTHING);
    } finally {
      cleanUp(session);
    }
  });

  it("neither follows a log symlink planted there nor connects to a socket planted there", async () => {
    const { tmp, squatted } = squattedTmpdir();
    const session = newSessionId();
    const victim = join(tmp, "victim.txt");
    writeFileSync(victim, "precious\n");
    const link = join(squatted, `${session}.log`);
    symlinkSync(victim, link);
    lchownSync(link, OTHER_UID, OTHER_UID);
    let connections = 0;
    const planted = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    servers.push(planted);
    const socketPath = join(squatted, `${session}.sock`);
    await new Promise<void>((resolve) => planted.listen(socketPath, resolve));
    lchownSync(socketPath, OTHER_UID, OTHER_UID);
    try {
      // NODE_DEBUG makes the watchdog log everything it does: the most writes the symlink could catch.
      const child = await startChild(session, ["--containers", "1"], { ...childEnv(tmp), NODE_DEBUG: "throwaway" });
      child.send("exit");
      expect(await child.ended).toEqual({ code: 0, signal: null });
      expect(connections).toBe(0);
      expect(readFileSync(victim, "utf8")).toBe("precious\n");
      expect(child.stderr()).not.toContain("THROWAWAY_REAPER");
      expect(leftOf(session)).toEqual(NOTHING);
    } finally {
      cleanUp(session);
    }
  });
});
