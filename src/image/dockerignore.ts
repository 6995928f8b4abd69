import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import dockerignore, { type Ignore } from "@balena/dockerignore";
import { debug } from "../debug.js";

/**
 * The `.dockerignore` rules, applied the way the docker CLI applies them when it tars a build context for the
 * classic builder: patterns are read and cleaned as Docker's `ReadAll` does, each path is matched with Docker's
 * pattern matcher (`@balena/dockerignore`, a port of it, case-sensitive as Docker is), and the walk skips an excluded
 * directory unless an exception (`!pattern`) starts inside it, which decides what Docker sends for patterns such as
 * `*` followed by `!src/**`.
 */

/** One thing sent in the build context, in the order it is sent. */
export interface ContextEntry {
  /** Its path in the context: `/`-separated, relative, never `.`. */
  name: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits (`0o7777`), as on disk. */
  mode: number;
  /** Bytes, for files. */
  size: number;
  mtime: Date;
  /** The absolute host path it is read from; absent for content made here (a Dockerfile from outside). */
  source?: string;
  /** Content made here instead of read from `source`. */
  content?: Buffer;
  /** For symlinks: the link's target, verbatim. */
  linkname?: string;
  /** What the per-process hash cache keys a file by: device, inode, size, mtime and ctime (ns). */
  statKey?: string;
  /** ctime/mtime in ms, to keep hashes of files changed in the last instant out of the cache. */
  changedAtMs?: number;
}

/**
 * Parses `.dockerignore` text into the pattern list Docker's `ReadAll` produces: comments (`#` in column 1) and blank
 * lines dropped, each line trimmed, the path cleaned (`a/./b/` → `a/b`) and a leading `/` removed, `!` kept in front.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    let pattern = line.trim();
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** Go's `filepath.Clean` for `/`-separated paths. */
function cleanPath(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized;
}

/** Matches context paths against a pattern list, as Docker's `PatternMatcher` does. */
export class ContextMatcher {
  private readonly matcher: Ignore;
  /** The exception patterns without their `!`, each with a trailing `/`, for the walk's skip decision. */
  private readonly exceptionPrefixes: string[];
  readonly patterns: readonly string[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
    // A CommonJS module whose `default` is itself: the one spelling that works under Node, bundlers and vitest.
    this.matcher = dockerignore.default({ ignorecase: false }).add([...patterns]);
    this.exceptionPrefixes = patterns.filter((p) => p.startsWith("!") && p.length > 1).map((p) => `${cleanPath(p.slice(1))}/`);
  }

  /** True when `path` (relative, `/`-separated) is excluded from the context. */
  excludes(path: string): boolean {
    return this.patterns.length > 0 && this.matcher.ignores(path);
  }

  /**
   * Whether the walk may skip an excluded directory whole. Docker only walks into one when an exception pattern
   * starts with the directory's path, so `!**` style exceptions do not bring back files under an excluded directory.
   */
  canSkipDirectory(path: string): boolean {
    const prefix = `${path}/`;
    return !this.exceptionPrefixes.some((exception) => exception.startsWith(prefix));
  }
}

/**
 * The pattern list for a build: the Dockerfile-specific ignore file (`<Dockerfile>.dockerignore`, BuildKit's rule)
 * when it exists, else the context's `.dockerignore`. Returns the file's text too (it is sent as the context's
 * `.dockerignore`, so the engine removes the Dockerfile and ignore file from the context when they are excluded).
 */
export async function loadIgnoreFile(
  contextDir: string,
  dockerfilePath: string,
): Promise<{ patterns: string[]; text: string | undefined; source: string | undefined }> {
  for (const candidate of [`${dockerfilePath}.dockerignore`, join(contextDir, ".dockerignore")]) {
    try {
      const text = await readFile(candidate, "utf8");
      return { patterns: parseDockerignore(text), text, source: candidate };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    }
  }
  return { patterns: [], text: undefined, source: undefined };
}

/**
 * Adds the exceptions the docker CLI adds so the Dockerfile and `.dockerignore` always reach the engine (which needs
 * them, and drops them from what `COPY` sees when they are excluded).
 */
export function keepBuildFiles(patterns: readonly string[], dockerfileName: string | undefined): string[] {
  const matcher = new ContextMatcher(patterns);
  const kept = [...patterns];
  if (matcher.excludes(".dockerignore")) kept.push("!.dockerignore");
  if (dockerfileName && matcher.excludes(dockerfileName)) kept.push(`!${dockerfileName}`);
  return kept;
}

/**
 * Walks `contextDir` and lists what Docker would send: in lexical order (as Go's `filepath.Walk`), excluded paths
 * left out, symlinks kept as symlinks (never followed), sockets and devices skipped.
 */
export async function walkContext(contextDir: string, matcher: ContextMatcher): Promise<ContextEntry[]> {
  const entries: ContextEntry[] = [];
  const visit = async (dir: string, relDir: string): Promise<void> => {
    const names = (await readdir(dir)).sort(byteOrder);
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const source = join(dir, name);
      const stat = await lstat(source, { bigint: true });
      const excluded = matcher.excludes(rel);
      if (stat.isDirectory()) {
        if (excluded) {
          if (!matcher.canSkipDirectory(rel)) await visit(source, rel);
          continue;
        }
        entries.push({ name: rel, type: "directory", mode: Number(stat.mode & 0o7777n), size: 0, mtime: stat.mtime, source });
        await visit(source, rel);
        continue;
      }
      if (excluded) continue;
      const changedAtMs = Number(latest(stat.ctimeNs, stat.mtimeNs) / 1_000_000n);
      if (stat.isSymbolicLink()) {
        entries.push({
          name: rel,
          type: "symlink",
          mode: Number(stat.mode & 0o7777n),
          size: 0,
          mtime: stat.mtime,
          source,
          linkname: await readlink(source),
        });
      } else if (stat.isFile()) {
        entries.push({
          name: rel,
          type: "file",
          mode: Number(stat.mode & 0o7777n),
          size: Number(stat.size),
          mtime: stat.mtime,
          source,
          statKey: `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`,
          changedAtMs,
        });
      } else {
        debug("build", `skipping ${rel} in the build context: not a file, directory or symlink`);
      }
    }
  };
  await visit(contextDir, "");
  return entries;
}

/** Go sorts names by bytes; for names that are not plain ASCII, UTF-16 order can differ, so compare UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function latest(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
