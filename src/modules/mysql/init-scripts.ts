import { readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CopyItem } from "../../container/copy.js";
import { InvalidOptionError } from "../../errors.js";

/**
 * An init script: a path (string or `file:` URL) to a file or a folder of files, or SQL text given in code as
 * `{ sql, name? }`. Relative paths are resolved against the current working directory.
 */
export type InitScript = string | URL | { sql: string; name?: string };

/** The folder the official image runs scripts from, once, when its data directory is first created. */
export const INIT_DIR = "/docker-entrypoint-initdb.d";

/** What the image's entrypoint runs; anything else in that folder is silently skipped by it, so we refuse it. */
const RUNNABLE = /\.(sql|sql\.gz|sql\.xz|sql\.zst|sh)$/;
const RUNNABLE_TEXT = ".sql, .sql.gz, .sql.xz, .sql.zst or .sh";

/**
 * Turns init scripts into files under {@link INIT_DIR}, prefixed `001-`, `002-`, ... so the entrypoint (which runs
 * them in name order) runs them in the order given; a folder's files keep their name order. Checks every path now,
 * so a typo fails before any container exists.
 */
export async function resolveInitScripts(scripts: readonly unknown[]): Promise<CopyItem[]> {
  const items: CopyItem[] = [];
  const target = (name: string) => `${INIT_DIR}/${String(items.length + 1).padStart(3, "0")}-${name}`;
  for (const script of scripts) {
    if (typeof script === "object" && script !== null && !(script instanceof URL)) {
      const { sql, name } = script as { sql?: unknown; name?: unknown };
      if (typeof sql !== "string" || sql.trim() === "") {
        throw new InvalidOptionError("withInitScripts({ sql })", "non-empty SQL text", sql);
      }
      if (name !== undefined && (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/.test(name))) {
        throw new InvalidOptionError("withInitScripts({ name })", "a file name of letters, digits, _ . -", name);
      }
      const file = name === undefined ? "script.sql" : name.endsWith(".sql") ? name : `${name}.sql`;
      items.push({ kind: "content", content: sql, target: target(file), mode: 0o644 });
      continue;
    }
    const path = scriptPath(script);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      throw new InvalidOptionError("withInitScripts", "the path of an existing file or folder, or `{ sql }` for SQL text", String(script), {
        hint: `nothing exists at ${path}`,
      });
    }
    if (info.isDirectory()) {
      const entries = (await readdir(path, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && RUNNABLE.test(entry.name))
        .map((entry) => entry.name)
        .sort();
      if (entries.length === 0) {
        throw new InvalidOptionError("withInitScripts", `a folder with ${RUNNABLE_TEXT} files`, String(script), {
          hint: `${path} has none`,
        });
      }
      for (const entry of entries) items.push({ kind: "file", source: join(path, entry), target: target(entry) });
    } else if (info.isFile()) {
      if (!RUNNABLE.test(path)) {
        throw new InvalidOptionError("withInitScripts", `a ${RUNNABLE_TEXT} file (the image ignores other files)`, String(script), {
          hint: "rename it, or pass its text as `{ sql }`",
        });
      }
      items.push({ kind: "file", source: path, target: target(basename(path)) });
    } else {
      throw new InvalidOptionError("withInitScripts", "a regular file or a folder", String(script));
    }
  }
  return items;
}

function scriptPath(script: unknown): string {
  if (script instanceof URL) {
    if (script.protocol !== "file:") throw new InvalidOptionError("withInitScripts", "a `file:` URL", script.href);
    return fileURLToPath(script);
  }
  if (typeof script !== "string" || script.trim() === "") {
    throw new InvalidOptionError("withInitScripts", "a path, a `file:` URL or `{ sql }`", script);
  }
  return resolve(script);
}
