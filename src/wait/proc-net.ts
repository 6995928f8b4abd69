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
 * Reads one /proc/net table with as few `read()` calls as possible. Each call makes the kernel walk the whole
 * connection hash table (milliseconds of CPU on a big host), including the final call that only finds the end of
 * the file; so a short first read is taken as the whole file. `undefined` when the file cannot be read.
 */
export async function readProcTable(path: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buffer = Buffer.allocUnsafe(64 * 1024);
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
 * The TCP ports in LISTEN state in the network namespace of process `pid`, read from this host's /proc. Both
 * tables are read at once: the caller only asks when a cheaper check says the port is probably up, so the answer's
 * latency matters more than the CPU of a second table. `undefined` when neither table can be read (no such process).
 */
export async function readListeningPorts(pid: number): Promise<Set<number> | undefined> {
  const [tcp, tcp6] = await Promise.all([readProcTable(`/proc/${pid}/net/tcp`), readProcTable(`/proc/${pid}/net/tcp6`)]);
  if (tcp === undefined && tcp6 === undefined) return undefined;
  return listeningPortsFromProcNet(tcp ?? "", tcp6 ?? "");
}
