import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";

// Not on Windows, where the log sits in the user's own temp folder anyway.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Appends `text` to the watchdog's log, never through a symlink (O_NOFOLLOW: someone else's file would be written
 * with our rights) and never into a FIFO or device (O_NONBLOCK, then only a regular file is written). Throws when
 * it cannot; callers have nowhere else to say it and go on.
 */
export function appendLog(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NO_FOLLOW | NON_BLOCK, 0o600);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
