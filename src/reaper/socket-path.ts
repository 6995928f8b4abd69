import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { env, inherited } from "../config.js";
import { debug } from "../debug.js";
import { ReaperError } from "../errors.js";

/** What the socket path depends on; tests pass fakes. */
export interface SocketPlace {
  tmpdir: string;
  /** `undefined` where there are no uids (Windows). */
  uid: number | undefined;
  platform: NodeJS.Platform;
  /** `$XDG_RUNTIME_DIR`: a folder only this user can enter, where the system provides one (systemd logins). */
  runtimeDir?: string | undefined;
  /** `THROWAWAY_REAPER_DIR`: the folder an earlier process of the run settled on, inherited through the env. */
  inheritedDir?: string | undefined;
}

export function realSocketPlace(): SocketPlace {
  return {
    tmpdir: tmpdir(),
    uid: process.getuid?.(),
    platform: process.platform,
    runtimeDir: process.env.XDG_RUNTIME_DIR?.trim() || undefined,
    inheritedDir: env.reaperDir(),
  };
}

/**
 * Unix socket paths must fit in `sun_path` (108 bytes on Linux, 104 on macOS, both counting the final NUL); long
 * session ids or a deep `$TMPDIR` (macOS puts it under /var/folders/...) would not fit, so such names are hashed.
 */
const MAX_SOCKET_PATH = 100;

let resolved: { key: string; dir: string } | undefined;

/**
 * The per-user folder holding the sessions' watchdog sockets (and their logs), checked: a real folder, ours, closed
 * to others. In order: the one inherited from the run's first process; `$XDG_RUNTIME_DIR/throwaway`; the usual
 * `$TMPDIR/throwaway-<uid>`; and when another user holds that one (any local user can create it first in a shared
 * /tmp), a fresh `mkdtemp` folder nobody can have prepared. The choice is exported as `THROWAWAY_REAPER_DIR`, so the
 * processes this one starts (test workers, and the watchdog through its config) use the same folder.
 *
 * Nothing is written anywhere before the folder passed the check.
 */
export function getSocketDir(place: SocketPlace = realSocketPlace()): string {
  if (place.platform === "win32") return join(place.tmpdir, `throwaway-${place.uid ?? "user"}`);
  const key = JSON.stringify(place);
  if (resolved?.key === key) return resolved.dir;
  const dir = chooseSocketDir(place);
  resolved = { key, dir };
  inherited.setReaperDir(dir);
  return dir;
}

function chooseSocketDir(place: SocketPlace): string {
  const refusals: string[] = [];
  const attempt = (dir: string, create: boolean): boolean => {
    try {
      if (create) ensureSocketDir(dir, place.uid);
      else checkSocketDir(dir, place.uid);
      return true;
    } catch (error) {
      refusals.push((error as Error).message);
      return false;
    }
  };
  if (place.inheritedDir && attempt(place.inheritedDir, false)) return place.inheritedDir;
  // The runtime folder must itself be private: only then can nobody else have made our subfolder.
  if (place.runtimeDir && attempt(place.runtimeDir, false)) {
    const dir = join(place.runtimeDir, "throwaway");
    if (attempt(dir, true)) return dir;
  }
  const usual = join(place.tmpdir, `throwaway-${place.uid ?? "user"}`);
  if (attempt(usual, true)) return usual;
  debug("reaper", `not using ${usual}: ${refusals.at(-1)}; using a fresh private folder instead`);
  let fresh: string;
  try {
    // mkdtemp picks an unpredictable name and creates it 0700, failing rather than reusing what exists.
    fresh = mkdtempSync(`${usual}-`);
  } catch (error) {
    throw new ReaperError(`Could not create a private folder for the reaper in ${place.tmpdir}: ${(error as Error).message}`, {
      cause: error,
      details: refusals.join("\n"),
    });
  }
  checkSocketDir(fresh, place.uid);
  return fresh;
}

/**
 * Where the watchdog of `sessionId` listens: derived from the session id and the folder (both inherited by the run's
 * processes through the environment), so every process of a run finds the same watchdog without asking anyone.
 */
export function getSocketPath(sessionId: string, place: SocketPlace = realSocketPlace()): string {
  if (place.platform === "win32") {
    // Named pipes live in their own namespace with no length limit worth worrying about.
    return `\\\\.\\pipe\\throwaway-${place.uid ?? "user"}-${sessionId}`;
  }
  return socketPathIn(getSocketDir(place), sessionId);
}

/** The socket of `sessionId` in the (checked) folder `dir`, hashed when the plain name would not fit. */
export function socketPathIn(dir: string, sessionId: string): string {
  const plain = join(dir, `${sessionId}.sock`);
  if (Buffer.byteLength(plain) <= MAX_SOCKET_PATH) return plain;
  const hashed = join(dir, `${createHash("sha256").update(sessionId).digest("hex").slice(0, 16)}.sock`);
  if (Buffer.byteLength(hashed) <= MAX_SOCKET_PATH) return hashed;
  throw new ReaperError(
    `The reaper's socket folder ${dir} is too deep for a unix socket path: set TMPDIR to a shorter folder (e.g. /tmp), or set THROWAWAY_REAPER=off`,
  );
}

/**
 * Creates the socket folder (mode 0700) or checks the existing one. The folder sits in a shared /tmp, so another
 * user could have created it first to catch our connections: it must be a real folder, ours, and closed to others.
 */
export function ensureSocketDir(dir: string, uid: number | undefined = process.getuid?.()): void {
  if (process.platform === "win32") return;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new ReaperError(`Could not create the reaper's socket folder ${dir}: ${(error as Error).message}`, { cause: error });
    }
  }
  checkSocketDir(dir, uid);
}

/** Throws a {@link ReaperError} unless `dir` is a real folder (not a symlink), owned by `uid`, closed to others. */
export function checkSocketDir(dir: string, uid: number | undefined = process.getuid?.()): void {
  if (process.platform === "win32") return;
  let stat: Stats;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    throw new ReaperError(`The reaper's socket folder ${dir} cannot be used: ${(error as Error).message}`, { cause: error });
  }
  if (!stat.isDirectory()) {
    throw new ReaperError(`The reaper's socket folder ${dir} is not a folder: remove it, or point TMPDIR elsewhere`);
  }
  if (uid !== undefined && stat.uid !== uid) {
    throw new ReaperError(`The reaper's socket folder ${dir} belongs to uid ${stat.uid}, not to this user (${uid}): remove it`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new ReaperError(
      `The reaper's socket folder ${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}): run \`chmod 700 ${dir}\``,
    );
  }
}

/**
 * Checked by a client before it connects: the folder as above, and the socket a socket of ours. A socket someone
 * else planted would otherwise receive our pid and engines, and silently leave us without a reaper.
 */
export function checkSocket(path: string, uid: number | undefined = process.getuid?.()): void {
  if (process.platform === "win32") return;
  checkSocketDir(dirname(path), uid);
  const stat = lstatSync(path);
  if (!stat.isSocket() || (uid !== undefined && stat.uid !== uid)) {
    throw new ReaperError(`The reaper's socket ${path} is not a socket of this user (${uid}): remove it`);
  }
}
