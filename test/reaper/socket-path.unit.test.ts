import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReaperError } from "throwaway";
import { afterAll, describe, expect, it } from "vitest";
import { appendLog } from "../../src/reaper/log-file.js";
import { checkSocket, ensureSocketDir, getSocketDir, getSocketPath, socketPathIn } from "../../src/reaper/socket-path.js";
import { getWatchdogProgram } from "../../src/reaper/watchdog-client.js";

describe("socketPathIn", () => {
  it("derives the path from the session id alone, in the per-user folder", () => {
    expect(socketPathIn("/tmp/throwaway-1000", "4f1c2a9e0b7d3e21")).toBe("/tmp/throwaway-1000/4f1c2a9e0b7d3e21.sock");
  });

  it("hashes a session id that would not fit in a unix socket path", () => {
    const path = socketPathIn("/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/throwaway-1000", "x".repeat(64));
    expect(path).toMatch(/^\/var\/folders\/zz\/zyxvpxvq6csfxvn_n0000000000000\/T\/throwaway-1000\/[0-9a-f]{16}\.sock$/);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
  });

  it("names a folder too deep for any socket path, with the fix", () => {
    const deep = `/${"d".repeat(120)}/throwaway-1000`;
    expect(() => socketPathIn(deep, "abc")).toThrow(ReaperError);
    expect(() => socketPathIn(deep, "abc")).toThrow(
      `The reaper's socket folder ${deep} is too deep for a unix socket path: set TMPDIR to a shorter folder (e.g. /tmp), or set THROWAWAY_REAPER=off`,
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

describe("getSocketDir", () => {
  const base = mkdtempSync(join(tmpdir(), "throwaway-socket-dir-choice-"));
  const uid = process.getuid!();
  const saved = process.env.THROWAWAY_REAPER_DIR;
  afterAll(() => {
    rmSync(base, { recursive: true, force: true });
    if (saved === undefined) delete process.env.THROWAWAY_REAPER_DIR;
    else process.env.THROWAWAY_REAPER_DIR = saved;
  });

  it("prefers a private $XDG_RUNTIME_DIR, and exports its choice to the processes this one starts", () => {
    const runtimeDir = join(base, "run-user");
    mkdirSync(runtimeDir, { mode: 0o700 });
    const dir = getSocketDir({ tmpdir: join(base, "tmp"), uid, platform: "linux", runtimeDir });
    expect(dir).toBe(join(runtimeDir, "throwaway"));
    expect(process.env.THROWAWAY_REAPER_DIR).toBe(dir);
  });

  it("takes a fresh private folder when the usual one belongs to someone else, and a child inherits it", () => {
    const tmp = join(base, "shared-tmp");
    mkdirSync(join(tmp, `throwaway-${uid}`), { recursive: true, mode: 0o700 });
    chmodSync(join(tmp, `throwaway-${uid}`), 0o777);
    const dir = getSocketDir({ tmpdir: tmp, uid, platform: "linux" });
    expect(dir).toMatch(new RegExp(`^${tmp}/throwaway-${uid}-[A-Za-z0-9]{6}$`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(getSocketDir({ tmpdir: tmp, uid, platform: "linux", inheritedDir: dir })).toBe(dir);
  });

  it("ignores an inherited folder that is not private, and a $XDG_RUNTIME_DIR that is not", () => {
    const open = join(base, "open-run");
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o755);
    const tmp = join(base, "tmp2");
    mkdirSync(tmp);
    expect(getSocketDir({ tmpdir: tmp, uid, platform: "linux", runtimeDir: open, inheritedDir: open })).toBe(join(tmp, `throwaway-${uid}`));
  });
});

describe("the watchdog's log and socket", () => {
  const base = mkdtempSync(join(tmpdir(), "throwaway-log-file-test-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it("appends to the log without following a symlink planted in its place", () => {
    const victim = join(base, "victim.txt");
    writeFileSync(victim, "precious\n");
    const log = join(base, "session.log");
    symlinkSync(victim, log);
    expect(() => appendLog(log, "a line\n")).toThrow(/ELOOP/);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    const real = join(base, "real.log");
    appendLog(real, "one\n");
    appendLog(real, "two\n");
    expect(readFileSync(real, "utf8")).toBe("one\ntwo\n");
    expect(statSync(real).mode & 0o777).toBe(0o600);
  });

  it("refuses a socket that is not this user's before connecting", async () => {
    const dir = join(base, "sockets");
    ensureSocketDir(dir);
    const path = join(dir, "s.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      checkSocket(path);
      lchownSync(path, 65534, 65534);
      expect(() => checkSocket(path)).toThrow(`The reaper's socket ${path} is not a socket of this user (${process.getuid!()}): remove it`);
    } finally {
      server.close();
    }
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
