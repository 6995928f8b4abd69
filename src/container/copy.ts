import type { Hash } from "node:crypto";
import { createReadStream, type Dirent, type Stats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type tarStream from "tar-stream";
import type { Engine } from "../engine/engine.js";
import { InvalidOptionError } from "../errors.js";

/** Something to copy into a container: a host file, a host directory (recursively), or content given in code. */
export type CopyItem = (
  | { kind: "file"; source: string; target: string; mode?: number }
  | { kind: "directory"; source: string; target: string; mode?: number }
  | { kind: "content"; content: string | Buffer; target: string; mode?: number }
) &
  CopyOwner;

/** Who owns what a copy writes (every entry, recursively for directories). Default: root (0:0). */
export interface CopyOwner {
  /** Numeric user id of the copied files in the container. */
  uid?: number;
  /** Numeric group id of the copied files in the container. */
  gid?: number;
}

/** A pack whose entries all get `owner`'s uid and gid. */
function ownedBy(pack: tarStream.Pack, owner: CopyOwner): tarStream.Pack {
  if (owner.uid === undefined && owner.gid === undefined) return pack;
  const ids = { ...(owner.uid !== undefined ? { uid: owner.uid } : {}), ...(owner.gid !== undefined ? { gid: owner.gid } : {}) };
  return new Proxy(pack, {
    get(target, property, receiver) {
      if (property !== "entry") return Reflect.get(target, property, receiver);
      return (header: Parameters<tarStream.Pack["entry"]>[0], ...rest: unknown[]) =>
        (target.entry as (...args: unknown[]) => unknown).call(target, { ...header, ...ids }, ...rest);
    },
  });
}

/** Who asked for the copy: decides which option an error names. */
export type CopyOrigin = "builder" | "copyToContainer";

/** One archive entry, as both the tar writer and the reuse hash see it. */
interface CopyEntry {
  name: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  mtime?: Date;
  size?: number;
  /** Host path of a file's content. */
  source?: string;
  content?: Buffer;
  linkname?: string;
}

function entryName(target: string): string {
  // Entries are relative to "/" (the archive is put at the root), so absolute targets lose their leading slash.
  return posix.normalize(target).replace(/^\/+/, "");
}

/**
 * The mode a folder gets when a copy gives one `mode` for a whole tree: the same bits, plus search (`x`) for every
 * class the mode lets read. `0o640` makes files `640` and folders `750`, so whoever may read the files can reach
 * them; a folder without `x` could be listed but not entered, which nobody asking for readable files means.
 */
export function folderMode(mode: number): number {
  return mode | ((mode & 0o444) >> 2);
}

function optionName(item: CopyItem, origin: CopyOrigin): string {
  if (origin === "copyToContainer") return "copyToContainer({ source })";
  return item.kind === "directory" ? "withCopyDirectoriesToContainer({ source })" : "withCopyFilesToContainer({ source })";
}

function kindOf(entry: Stats | Dirent): string {
  if (entry.isFIFO()) return "a FIFO";
  if (entry.isSocket()) return "a socket";
  if (entry.isBlockDevice()) return "a block device";
  if (entry.isCharacterDevice()) return "a character device";
  if (entry.isDirectory()) return "a folder";
  return "neither a file, a folder nor a symlink";
}

/** A file-system failure on `path`, as the error that names the option and the path. */
function fsError(item: CopyItem, origin: CopyOrigin, path: string, expected: string, error: unknown): InvalidOptionError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const hint =
    code === "ENOENT"
      ? "no such file or folder (a symlink is followed: its target must exist)"
      : code === "EACCES"
        ? "permission denied"
        : `it cannot be read (${code ?? (error as Error)?.message ?? String(error)})`;
  return new InvalidOptionError(optionName(item, origin), expected, path, { hint, cause: error });
}

/** `stat` (or `lstat`) that fails with the typed error naming the path. */
async function statOf(item: CopyItem, origin: CopyOrigin, path: string, expected: string, follow: boolean): Promise<Stats> {
  try {
    return await (follow ? stat(path) : lstat(path));
  } catch (error) {
    throw fsError(item, origin, path, expected, error);
  }
}

/**
 * The entries one item becomes, in a stable order. The source path the user named is followed when it is a
 * symlink (as `docker cp -L` does: a link to a file outside the copy would dangle in the container); links inside
 * a copied folder stay links. Anything but files, folders and symlinks is refused by path before it reaches the
 * archive: a FIFO would block the reader, and the engine cannot create sockets or devices from a tar.
 */
async function* copyEntries(item: CopyItem, origin: CopyOrigin): AsyncGenerator<CopyEntry> {
  const name = entryName(item.target);
  if (item.kind === "content") {
    const content = typeof item.content === "string" ? Buffer.from(item.content) : item.content;
    yield { name, type: "file", mode: item.mode ?? 0o644, size: content.length, content };
    return;
  }
  if (item.kind === "file") {
    const info = await statOf(item, origin, item.source, "an existing file", true);
    if (!info.isFile()) {
      throw new InvalidOptionError(optionName(item, origin), "a regular file", item.source, {
        hint: `it is ${kindOf(info)}${info.isDirectory() ? ": use withCopyDirectoriesToContainer" : ""}`,
      });
    }
    yield { name, type: "file", mode: item.mode ?? info.mode & 0o7777, mtime: info.mtime, size: info.size, source: item.source };
    return;
  }
  const info = await statOf(item, origin, item.source, "an existing folder", true);
  if (!info.isDirectory())
    throw new InvalidOptionError(optionName(item, origin), "a folder", item.source, { hint: `it is ${kindOf(info)}` });
  yield* folderEntries(item, origin, item.source, name, info);
}

async function* folderEntries(item: CopyItem, origin: CopyOrigin, source: string, name: string, info: Stats): AsyncGenerator<CopyEntry> {
  const mode = item.mode;
  yield { name, type: "directory", mode: mode === undefined ? info.mode & 0o7777 : folderMode(mode), mtime: info.mtime };
  let children: Dirent[];
  try {
    children = await readdir(source, { withFileTypes: true });
  } catch (error) {
    throw fsError(item, origin, source, "a readable folder", error);
  }
  // Code-unit order, not the locale's: the reuse hash must not depend on who computes it.
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const childSource = join(source, child.name);
    const childName = posix.join(name, child.name);
    const expected = "a folder holding only files, folders and symlinks";
    if (child.isDirectory()) {
      yield* folderEntries(item, origin, childSource, childName, await statOf(item, origin, childSource, expected, false));
    } else if (child.isSymbolicLink()) {
      const link = await statOf(item, origin, childSource, expected, false);
      let linkname: string;
      try {
        linkname = await readlink(childSource);
      } catch (error) {
        throw fsError(item, origin, childSource, expected, error);
      }
      yield { name: childName, type: "symlink", mode: link.mode & 0o7777, mtime: link.mtime, linkname };
    } else if (child.isFile()) {
      const file = await statOf(item, origin, childSource, expected, false);
      yield { name: childName, type: "file", mode: mode ?? file.mode & 0o7777, mtime: file.mtime, size: file.size, source: childSource };
    } else {
      throw new InvalidOptionError(optionName(item, origin), expected, childSource, {
        hint: `it is ${kindOf(child)}, which cannot be copied: move it out of the folder, or copy the files beside it one by one`,
      });
    }
  }
}

/**
 * Streams `items` as one tar archive rooted at `/`, so any number of copies costs a single Engine API call. File
 * modes and symlinks inside folders are kept; a `mode` given in code overrides the files' own (folders get it with
 * their search bits, see {@link folderMode}). A source that cannot be copied fails the stream with an
 * {@link InvalidOptionError} naming its path; {@link putCopyItems} surfaces it as such.
 */
export function tarCopyItems(items: readonly CopyItem[], origin: CopyOrigin = "builder"): Readable {
  // tar-stream (with streamx and friends) costs ~6 MiB: loaded when a copy is made, not with `import "throwaway"`.
  // The stream is handed out at once and filled when the writer is ready, so callers stay synchronous.
  const out = new PassThrough();
  (async () => {
    const { default: tar } = await import("tar-stream");
    const pack = tar.pack();
    (pack as unknown as Readable).on("error", (error: Error) => out.destroy(error));
    (pack as unknown as Readable).pipe(out);
    for (const item of items) {
      const owned = ownedBy(pack, item);
      for await (const entry of copyEntries(item, origin)) await writeEntry(owned, entry, item, origin);
    }
    pack.finalize();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

async function writeEntry(pack: tarStream.Pack, entry: CopyEntry, item: CopyItem, origin: CopyOrigin): Promise<void> {
  const header = { name: entry.name, mode: entry.mode, ...(entry.mtime ? { mtime: entry.mtime } : {}) };
  if (entry.type === "directory") pack.entry({ ...header, type: "directory" });
  else if (entry.type === "symlink") pack.entry({ ...header, type: "symlink", linkname: entry.linkname! });
  else if (entry.content) pack.entry({ ...header, size: entry.content.length }, entry.content);
  else {
    try {
      await pipeline(createReadStream(entry.source!), pack.entry({ ...header, size: entry.size! }));
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException)?.code === "string" && (error as NodeJS.ErrnoException).code!.startsWith("E")) {
        throw fsError(item, origin, entry.source!, "a readable file", error);
      }
      throw error;
    }
  }
}

/** Copies `items` into container `id` in one call; a source that cannot be copied rejects as its own typed error. */
export async function putCopyItems(engine: Engine, id: string, items: readonly CopyItem[], origin: CopyOrigin): Promise<void> {
  const tar = tarCopyItems(items, origin);
  try {
    await engine.putArchive(id, "/", tar);
  } catch (error) {
    // The transport reports the aborted upload; what aborted it (the path that cannot be copied) is the news.
    if (tar.errored instanceof InvalidOptionError) throw tar.errored;
    throw error;
  }
}

/**
 * Feeds everything that makes two copies equal into `hash`: targets, modes, names, link targets and file content
 * (streamed, so memory stays bounded whatever the size). Editing a copied file therefore changes the hash.
 */
export async function hashCopyItems(items: readonly CopyItem[], hash: Hash): Promise<void> {
  for (const item of items) {
    hash.update(
      JSON.stringify({ kind: item.kind, target: item.target, mode: item.mode ?? null, uid: item.uid ?? null, gid: item.gid ?? null }),
    );
    for await (const entry of copyEntries(item, "builder")) {
      hash.update(JSON.stringify({ n: entry.name, t: entry.type, m: entry.mode, s: entry.size ?? null, l: entry.linkname ?? null }));
      if (entry.content) hash.update(entry.content);
      else if (entry.source) {
        try {
          for await (const chunk of createReadStream(entry.source)) hash.update(chunk as Buffer);
        } catch (error) {
          throw fsError(item, "builder", entry.source, "a readable file", error);
        }
      }
    }
  }
}

/** Reads a tar stream (from `copyFromContainer`) into a map of path to content, for small archives. */
export async function untarToMap(stream: Readable): Promise<Map<string, Buffer>> {
  const { default: tar } = await import("tar-stream");
  const extract = tar.extract();
  const files = new Map<string, Buffer>();
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, entry, next) => {
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: unknown) => void chunks.push(chunk as Buffer));
      entry.on("end", () => {
        if (header.type === "file") files.set(header.name, Buffer.concat(chunks));
        next();
      });
      entry.resume();
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return files;
}
