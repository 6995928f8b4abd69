import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type tarStream from "tar-stream";
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

function entryName(target: string): string {
  // Entries are relative to "/" (the archive is put at the root), so absolute targets lose their leading slash.
  return posix.normalize(target).replace(/^\/+/, "");
}

async function addFile(pack: tarStream.Pack, source: string, name: string, mode: number | undefined): Promise<void> {
  const stat = await lstat(source);
  if (stat.isSymbolicLink()) {
    pack.entry({ name, type: "symlink", linkname: await readlink(source), mode: stat.mode & 0o7777 });
    return;
  }
  if (!stat.isFile()) throw new InvalidOptionError("copy source", "a regular file", source);
  const entry = pack.entry({ name, size: stat.size, mode: mode ?? stat.mode & 0o7777, mtime: stat.mtime });
  await pipeline(createReadStream(source), entry);
}

async function addDirectory(pack: tarStream.Pack, source: string, name: string, mode: number | undefined): Promise<void> {
  const stat = await lstat(source);
  if (!stat.isDirectory()) throw new InvalidOptionError("copy source", "a directory", source);
  pack.entry({ name, type: "directory", mode: mode ?? stat.mode & 0o7777, mtime: stat.mtime });
  for (const child of (await readdir(source, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const childSource = join(source, child.name);
    const childName = posix.join(name, child.name);
    if (child.isDirectory()) await addDirectory(pack, childSource, childName, undefined);
    else await addFile(pack, childSource, childName, undefined);
  }
}

/**
 * Streams `items` as one tar archive rooted at `/`, so any number of copies costs a single Engine API call. File
 * modes and symlinks are kept; a `mode` given in code overrides the file's own.
 */
export function tarCopyItems(items: readonly CopyItem[]): Readable {
  // tar-stream (with streamx and friends) costs ~6 MiB: loaded when a copy is made, not with `import "throwaway"`.
  // The stream is handed out at once and filled when the writer is ready, so callers stay synchronous.
  const out = new PassThrough();
  (async () => {
    const { default: tar } = await import("tar-stream");
    const pack = tar.pack();
    (pack as unknown as Readable).on("error", (error: Error) => out.destroy(error));
    (pack as unknown as Readable).pipe(out);
    for (const item of items) {
      const name = entryName(item.target);
      const owned = ownedBy(pack, item);
      if (item.kind === "content") {
        const content = typeof item.content === "string" ? Buffer.from(item.content) : item.content;
        owned.entry({ name, size: content.length, mode: item.mode ?? 0o644 }, content);
      } else if (item.kind === "file") {
        await addFile(owned, item.source, name, item.mode);
      } else {
        await addDirectory(owned, item.source, name, item.mode);
      }
    }
    pack.finalize();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
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
