import { type FileHandle, open } from "node:fs/promises";

/**
 * Parses `/proc/net/tcp` and `/proc/net/tcp6` text into the set of ports in LISTEN state (state `0A`). These files
 * describe one network namespace, so read from a container's namespace they say what its processes listen on.
 */
export function listeningPortsFromProcNet(...texts: string[]): Set<number> {
  const ports = new Set<number>();
  for (const text of texts) {
    for (const line of text.split("\n")) {
      const fields = line.trim().split(/\s+/);
      // fields: sl, local_address (HEXIP:HEXPORT), rem_address, st, ...
      if (fields.length < 4 || fields[3] !== "0A") continue;
      const local = fields[1];
      const colon = local?.lastIndexOf(":") ?? -1;
      if (!local || colon < 0) continue;
      const port = Number.parseInt(local.slice(colon + 1), 16);
      if (Number.isInteger(port) && port > 0) ports.add(port);
    }
  }
  return ports;
}

/**
 * Bytes one `read()` of a /proc seq file returns at most (the kernel fills one page per call). A read shorter than
 * this by more than a line's length was the whole file.
 */
const SEQ_PAGE_BYTES = 4096;
const LONGEST_LINE_BYTES = 256;

/**
 * Reads one /proc file (a /proc/net table above all) with as few `read()` calls as possible. Each call makes the kernel walk the whole
 * connection hash table (milliseconds of CPU on a big host), including the final call that only finds the end of
 * the file; so a short first read is taken as the whole file. `undefined` when the file cannot be read.
 *
 * Each read gets a page-sized buffer: the kernel never hands a seq file out in larger pieces, and a larger buffer
 * (`readFile` takes 64 KiB for a file whose size is unknown, as every /proc file's is) only costs memory, for every
 * table of every wait polling at once.
 */
export async function readProcFile(path: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buffer = Buffer.allocUnsafe(SEQ_PAGE_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      if (bytesRead < SEQ_PAGE_BYTES - LONGEST_LINE_BYTES) break;
    }
    return Buffer.concat(chunks).toString("latin1");
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * How long a table answer may be reused while the namespace's TCP socket counts stay the same. The counts change
 * when a socket starts listening, so this only bounds the (unlikely) case of one socket closing as another opens.
 */
export const TABLE_MAX_AGE_MS = 250;

const answers = new Map<number, { counts: string; ports: ReadonlySet<number>; at: number }>();

/**
 * `TCP: inuse` and `TCP6: inuse` of the network namespace of `pid`: counters, so reading them costs microseconds,
 * unlike the tables. `undefined` when they cannot be read.
 */
export async function readSocketCounts(pid: number): Promise<string | undefined> {
  const [v4, v6] = await Promise.all([readProcFile(`/proc/${pid}/net/sockstat`), readProcFile(`/proc/${pid}/net/sockstat6`)]);
  const tcp = v4 && /^TCP: inuse (\d+)/m.exec(v4)?.[1];
  if (!tcp) return undefined;
  return `${tcp}/${/^TCP6: inuse (\d+)/m.exec(v6 ?? "")?.[1] ?? "-"}`;
}

/**
 * The TCP ports in LISTEN state in the network namespace of process `pid`, read from this host's /proc. Reading the
 * tables walks the kernel's whole connection hash (milliseconds of CPU on a big host), so the last answer is reused
 * while the namespace's socket counts have not changed (for up to {@link TABLE_MAX_AGE_MS}): a wait can then look
 * every few milliseconds for almost nothing. Both tables are read at once. `undefined` when neither can be read.
 */
export async function readListeningPorts(pid: number): Promise<ReadonlySet<number> | undefined> {
  const now = Date.now();
  for (const [key, answer] of answers) if (now - answer.at >= TABLE_MAX_AGE_MS) answers.delete(key);
  const counts = await readSocketCounts(pid);
  const last = answers.get(pid);
  if (counts !== undefined && last?.counts === counts) return last.ports;
  const [tcp, tcp6] = await Promise.all([readProcFile(`/proc/${pid}/net/tcp`), readProcFile(`/proc/${pid}/net/tcp6`)]);
  if (tcp === undefined && tcp6 === undefined) return undefined;
  const ports = listeningPortsFromProcNet(tcp ?? "", tcp6 ?? "");
  if (counts !== undefined) answers.set(pid, { counts, ports, at: now });
  return ports;
}
