import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { InvalidOptionError } from "../errors.js";
import { appendToStage } from "./build-dockerfile.js";
import { type ContextEntry, ContextMatcher, keepBuildFiles, loadIgnoreFile, walkContext } from "./dockerignore.js";

/** A build context as the user's files make it: what the digest covers. {@link composeSend} makes what is sent. */
export interface PreparedContext {
  /** The context directory, symlinks resolved. */
  contextDir: string;
  /** Whether the Dockerfile lies inside the context. */
  inside: boolean;
  /** The Dockerfile's path relative to the context (`/`-separated) when inside, else its file name. */
  dockerfileName: string;
  /** Where the Dockerfile was read from on the host. */
  dockerfilePath: string;
  dockerfileContent: Buffer;
  /** The ignore file that applied, if any (a `<Dockerfile>.dockerignore` wins over the context's). */
  ignoreFile: string | undefined;
  /** Its text, as read. */
  ignoreText: string | undefined;
  /** Its patterns, without the exceptions added to keep the build files. */
  ignorePatterns: string[];
  /** The files, directories and symlinks that pass the ignore rules, in walk order. */
  entries: ContextEntry[];
}

/** What goes over the wire: the tar entries, in order, and the `dockerfile` the engine is told. */
export interface ContextToSend {
  dockerfileName: string;
  entries: ContextEntry[];
  /** True when `extraInstructions` went into the sent Dockerfile. */
  injected: boolean;
}

/**
 * Lists the context as the docker CLI would send it: the Dockerfile and `.dockerignore` are always included (the
 * engine needs them, and drops them again when they are excluded). `dockerfile` is relative to the context (or
 * absolute) and may lie outside it.
 */
export async function prepareContext(context: string, dockerfile: string | undefined): Promise<PreparedContext> {
  const contextDir = await resolveContextDir(context);
  const dockerfilePath = await resolveDockerfile(contextDir, dockerfile);
  const relativePath = relative(contextDir, dockerfilePath);
  const inside = relativePath !== "" && !relativePath.startsWith(`..${sep}`) && relativePath !== ".." && !isAbsolute(relativePath);
  const dockerfileContent = await readFile(dockerfilePath);
  const ignore = await loadIgnoreFile(contextDir, dockerfilePath);
  const dockerfileName = inside ? relativePath.split(sep).join("/") : basename(dockerfilePath);
  const patterns = keepBuildFiles(ignore.patterns, inside ? dockerfileName : undefined);
  const entries = await walkContext(contextDir, new ContextMatcher(patterns));
  return {
    contextDir,
    inside,
    dockerfileName,
    dockerfilePath,
    dockerfileContent,
    ignoreFile: ignore.source,
    ignoreText: ignore.text,
    ignorePatterns: ignore.patterns,
    entries,
  };
}

/**
 * Decides what is sent for `prepared`. The Dockerfile travels as itself when it sits in the context; otherwise (it
 * lies outside, or `extraInstructions` must be appended to its `targetStage`) a generated `.dockerfile.<hash>`
 * carries it, and the sent `.dockerignore` names that file so the engine drops it before `COPY` sees the context, as
 * the docker CLI does for a Dockerfile from outside. Appending is skipped (`injected: false`) when that would change
 * what `COPY` sees: a `.dockerignore` that is itself copied into the image.
 */
export function composeSend(prepared: PreparedContext, extraInstructions?: string, targetStage?: number): ContextToSend {
  const userMatcher = new ContextMatcher(prepared.ignorePatterns);
  const ignoreDropped = prepared.ignoreText === undefined || userMatcher.excludes(".dockerignore");
  const specific = prepared.ignoreFile !== undefined && prepared.ignoreFile !== join(prepared.contextDir, ".dockerignore");
  const inject = extraInstructions !== undefined && (!prepared.inside || specific || ignoreDropped);
  const entries = [...prepared.entries];

  if (prepared.inside && !inject) {
    // A Dockerfile-specific ignore file only exists on the host: the engine reads rules from `.dockerignore`.
    if (specific) replaceIgnore(entries, prepared.ignoreText!);
    return { dockerfileName: prepared.dockerfileName, entries, injected: false };
  }

  const text = inject
    ? Buffer.from(appendToStage(prepared.dockerfileContent.toString("utf8"), extraInstructions!, targetStage))
    : prepared.dockerfileContent;
  const generated = `.dockerfile.${sha256(text).slice(0, 20)}`;
  if (prepared.inside && userMatcher.excludes(prepared.dockerfileName)) {
    // The original was only listed so the engine could read it; the generated copy replaces it.
    const index = entries.findIndex((e) => e.name === prepared.dockerfileName);
    if (index >= 0) entries.splice(index, 1);
  }
  // Without a `.dockerignore` of the user's, the one made here names itself too, or COPY would pick it up.
  const ignoreText = `${prepared.ignoreText ?? ".dockerignore"}\n${generated}\n`;
  replaceIgnore(entries, ignoreText);
  entries.push({ name: generated, type: "file", mode: 0o600, size: text.length, mtime: new Date(0), content: text });
  return { dockerfileName: generated, entries, injected: inject };
}

function replaceIgnore(entries: ContextEntry[], text: string): void {
  const index = entries.findIndex((e) => e.name === ".dockerignore");
  const existing = index >= 0 ? entries[index] : undefined;
  const made: ContextEntry = {
    name: ".dockerignore",
    type: "file",
    mode: existing?.type === "file" ? existing.mode : 0o644,
    size: Buffer.byteLength(text),
    mtime: existing?.mtime ?? new Date(0),
    content: Buffer.from(text),
  };
  if (index >= 0) entries[index] = made;
  else entries.unshift(made);
}

async function resolveContextDir(context: string): Promise<string> {
  if (typeof context !== "string" || context.trim() === "") {
    throw new InvalidOptionError("fromDockerfile(context)", "the path of a directory", context);
  }
  let dir: string;
  try {
    dir = await realpath(resolve(context));
  } catch {
    throw new InvalidOptionError("fromDockerfile(context)", "the path of an existing directory", context, {
      hint: `nothing exists at ${resolve(context)}`,
    });
  }
  if (!(await stat(dir)).isDirectory()) {
    throw new InvalidOptionError("fromDockerfile(context)", "the path of a directory", context, { hint: `${dir} is not a directory` });
  }
  return dir;
}

async function resolveDockerfile(contextDir: string, dockerfile: string | undefined): Promise<string> {
  if (dockerfile !== undefined && (typeof dockerfile !== "string" || dockerfile.trim() === "")) {
    throw new InvalidOptionError("withDockerfile", "a path relative to the context, or absolute", dockerfile);
  }
  const candidates = dockerfile === undefined ? ["Dockerfile", "dockerfile"] : [dockerfile];
  for (const candidate of candidates) {
    const path = resolve(contextDir, candidate);
    try {
      if ((await stat(path)).isFile()) return path;
    } catch {
      // Try the next candidate; the error below names what was looked for.
    }
  }
  throw new InvalidOptionError("withDockerfile", "the path of an existing Dockerfile", dockerfile ?? "Dockerfile", {
    hint: `no file at ${resolve(contextDir, candidates[0]!)} (paths are relative to the context ${contextDir})`,
  });
}

// ---- digest ---------------------------------------------------------------------------------------------------

interface CachedHash {
  statKey: string;
  hash: string;
}

/** File content hashes by path, valid while device, inode, size, mtime and ctime are unchanged. */
const hashCache = new Map<string, CachedHash>();

/**
 * A file changed within this window may change again within the same timestamp tick without its stat changing, so
 * its hash is not cached (the racy-timestamp rule git uses for its index).
 */
const RACY_WINDOW_MS = 1000;

async function hashFile(entry: ContextEntry, now: number): Promise<string> {
  if (entry.content) return sha256(entry.content);
  const source = entry.source!;
  const cached = hashCache.get(source);
  if (cached && cached.statKey === entry.statKey) return cached.hash;
  const hash = createHash("sha256");
  if (entry.size <= 1 << 20) hash.update(await readFile(source));
  else for await (const chunk of createReadStream(source)) hash.update(chunk as Buffer);
  const digest = hash.digest("hex");
  if (entry.statKey && (entry.changedAtMs ?? now) < now - RACY_WINDOW_MS) hashCache.set(source, { statKey: entry.statKey, hash: digest });
  else hashCache.delete(source);
  return digest;
}

/**
 * The content digest a built image is cached by: the Dockerfile, every entry of the context as sent (path, type,
 * mode, content or link target) and `settings` (build args, target, platform, labels, builder: whatever else
 * changes the image). Two contexts with the same content share a digest wherever they sit on disk.
 */
export async function contextDigest(prepared: PreparedContext, settings: unknown): Promise<string> {
  const now = Date.now();
  const fileHashes = new Map<ContextEntry, string>();
  const files = prepared.entries.filter((e) => e.type === "file");
  // A few reads in flight hide the per-file latency without opening hundreds of descriptors at once.
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const entry = files[next++]!;
      fileHashes.set(entry, await hashFile(entry, now));
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));

  const hash = createHash("sha256");
  hash.update("throwaway-build/1\0");
  hash.update(stableJson({ dockerfile: prepared.dockerfileName, settings }));
  hash.update("\0");
  hash.update(prepared.dockerfileContent);
  for (const entry of prepared.entries) {
    const what = entry.type === "file" ? fileHashes.get(entry)! : entry.type === "symlink" ? entry.linkname! : "";
    hash.update(`\0${entry.type}\0${entry.name}\0${entry.mode.toString(8)}\0${what}`);
  }
  return hash.digest("hex");
}

/** JSON with object keys sorted, so equal settings always hash equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

// ---- tar ------------------------------------------------------------------------------------------------------

/**
 * Streams the context as a tar archive, straight from disk (no temporary copy). Owner and group are 0, as the docker
 * CLI sends them; modes and mtimes are the files' own. A read failure destroys the stream with the error.
 */
export function tarContext(entries: readonly ContextEntry[]): Readable {
  const pack = tar.pack();
  (async () => {
    for (const entry of entries) {
      const header = { name: entry.name, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0 };
      if (entry.type === "directory") {
        pack.entry({ ...header, type: "directory" });
      } else if (entry.type === "symlink") {
        pack.entry({ ...header, type: "symlink", linkname: entry.linkname! });
      } else if (entry.content) {
        pack.entry({ ...header, type: "file", size: entry.content.length }, entry.content);
      } else {
        const sink = pack.entry({ ...header, type: "file", size: entry.size });
        await pipeline(createReadStream(entry.source!), sink);
      }
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return pack as unknown as Readable;
}
