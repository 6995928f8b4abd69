import type { Readable } from "node:stream";

export type StreamName = "stdout" | "stderr";

export interface LogLine {
  stream: StreamName;
  /** The line without its trailing newline. */
  line: string;
}

/**
 * Splits the engine's multiplexed attach/logs framing (8-byte header: stream type, 3 zero bytes, big-endian length)
 * into lines per stream. Containers with a TTY send raw bytes; pass `tty: true` and everything counts as stdout.
 */
export async function* demuxLines(source: Readable, tty: boolean): AsyncGenerator<LogLine> {
  const partial: Record<StreamName, string> = { stdout: "", stderr: "" };
  let pending: Buffer = Buffer.alloc(0);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  function* emit(stream: StreamName, chunk: Buffer): Generator<LogLine> {
    const text = partial[stream] + decoders[stream].decode(chunk, { stream: true });
    const lines = text.split("\n");
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) yield { stream, line: line.endsWith("\r") ? line.slice(0, -1) : line };
  }

  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (tty) {
      yield* emit("stdout", chunk);
      continue;
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const type = pending[0];
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      // Type 0 is stdin (never sent on logs); treat unknown types as stdout rather than losing output.
      yield* emit(type === 2 ? "stderr" : "stdout", payload);
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const rest = partial[stream] + decoders[stream].decode();
    if (rest) yield { stream, line: rest };
  }
}

/** Collects a multiplexed stream into stdout, stderr and their interleaving, as bytes arrive. */
export async function demuxAll(source: Readable, tty: boolean): Promise<{ stdout: string; stderr: string; output: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (tty) {
      out.push(chunk);
      all.push(chunk);
      continue;
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      (pending[0] === 2 ? err : out).push(payload);
      all.push(payload);
      pending = pending.subarray(8 + size);
    }
  }
  return {
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
    output: Buffer.concat(all).toString("utf8"),
  };
}
