import { createHash } from "node:crypto";
import { lstatSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReaperError } from "../errors.js";

/** What the socket path depends on; tests pass fakes. */
export interface SocketPlace {
  tmpdir: string;
  /** `undefined` where there are no uids (Windows). */
  uid: number | undefined;
  platform: NodeJS.Platform;
}

export function realSocketPlace(): SocketPlace {
  return { tmpdir: tmpdir(), uid: process.getuid?.(), platform: process.platform };
}

/**
 * Unix socket paths must fit in `sun_path` (108 bytes on Linux, 104 on macOS, both counting the final NUL); long
 * session ids or a deep `$TMPDIR` (macOS puts it under /var/folders/...) would not fit, so such names are hashed.
 */
const MAX_SOCKET_PATH = 100;

/** The per-user folder holding the sessions' watchdog sockets (and their logs when debugging). */
export function getSocketDir(place: SocketPlace = realSocketPlace()): string {
  return join(place.tmpdir, `throwaway-${place.uid ?? "user"}`);
}

/**
 * Where the watchdog of `sessionId` listens. Derived from the session id alone, so every process of a run (vitest
 * workers inherit the id) finds the same watchdog without talking to anything else first.
 */
export function getSocketPath(sessionId: string, place: SocketPlace = realSocketPlace()): string {
  if (place.platform === "win32") {
    // Named pipes live in their own namespace with no length limit worth worrying about.
    return `\\\\.\\pipe\\throwaway-${place.uid ?? "user"}-${sessionId}`;
  }
  const dir = getSocketDir(place);
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
  const stat = lstatSync(dir);
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
