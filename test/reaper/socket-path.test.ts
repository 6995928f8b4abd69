import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReaperError } from "throwaway";
import { afterAll, describe, expect, it } from "vitest";
import { ensureSocketDir, getSocketPath } from "../../src/reaper/socket-path.js";
import { getWatchdogProgram } from "../../src/reaper/watchdog-client.js";

const linux = { tmpdir: "/tmp", uid: 1000, platform: "linux" as const };

describe("getSocketPath", () => {
  it("derives the path from the session id alone, under a per-user folder", () => {
    expect(getSocketPath("4f1c2a9e0b7d3e21", linux)).toBe("/tmp/throwaway-1000/4f1c2a9e0b7d3e21.sock");
  });

  it("hashes a session id that would not fit in a unix socket path", () => {
    const path = getSocketPath("x".repeat(64), { ...linux, tmpdir: "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T" });
    expect(path).toMatch(/^\/var\/folders\/zz\/zyxvpxvq6csfxvn_n0000000000000\/T\/throwaway-1000\/[0-9a-f]{16}\.sock$/);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
  });

  it("names a folder too deep for any socket path, with the fix", () => {
    const deep = `/${"d".repeat(120)}`;
    expect(() => getSocketPath("abc", { ...linux, tmpdir: deep })).toThrow(ReaperError);
    expect(() => getSocketPath("abc", { ...linux, tmpdir: deep })).toThrow(
      `The reaper's socket folder ${deep}/throwaway-1000 is too deep for a unix socket path: set TMPDIR to a shorter folder (e.g. /tmp), or set THROWAWAY_REAPER=off`,
    );
  });

  it("uses a named pipe on Windows", () => {
    expect(getSocketPath("abc", { tmpdir: "C:\\Temp", uid: undefined, platform: "win32" })).toBe("\\\\.\\pipe\\throwaway-user-abc");
  });
});

describe("ensureSocketDir", () => {
  const base = mkdtempSync(join(tmpdir(), "throwaway-socket-dir-test-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const uid = process.getuid!();

  it("creates the folder closed to other users", () => {
    const dir = join(base, "fresh");
    ensureSocketDir(dir, uid);
    ensureSocketDir(dir, uid); // and accepts it the second time
  });

  it("refuses a folder others can write to, naming the fix", () => {
    const dir = join(base, "open");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(() => ensureSocketDir(dir, uid)).toThrow(
      `The reaper's socket folder ${dir} is open to other users (mode 777): run \`chmod 700 ${dir}\``,
    );
  });

  it("refuses a folder of another user", () => {
    const dir = join(base, "theirs");
    mkdirSync(dir, { mode: 0o700 });
    expect(() => ensureSocketDir(dir, uid + 1)).toThrow(
      `The reaper's socket folder ${dir} belongs to uid ${uid}, not to this user (${uid + 1}): remove it`,
    );
  });

  it("refuses a symlink planted where the folder should be", () => {
    const target = join(base, "target");
    mkdirSync(target, { mode: 0o700 });
    const link = join(base, "link");
    symlinkSync(target, link);
    expect(() => ensureSocketDir(link, uid)).toThrow(
      `The reaper's socket folder ${link} is not a folder: remove it, or point TMPDIR elsewhere`,
    );
  });
});

describe("getWatchdogProgram", () => {
  it("runs the compiled watchdog next to the compiled client", () => {
    expect(getWatchdogProgram("/app/node_modules/throwaway/dist/reaper/watchdog-client.js")).toBe(
      "/app/node_modules/throwaway/dist/reaper/watchdog.js",
    );
  });

  it("runs the package's dist/ watchdog when throwaway runs from its TypeScript sources", () => {
    expect(getWatchdogProgram("/work/throwaway/src/reaper/watchdog-client.ts")).toBe("/work/throwaway/dist/reaper/watchdog.js");
  });
});
