import type { Readable } from "node:stream";

export type StreamName = "stdout" | "stderr";

export interface LogLine {
  stream: StreamName;
  /**
   * The line without its trailing newline. A line longer than {@link MAX_LINE_LENGTH} (64 Ki characters) comes in
   * pieces of that length, each a `LogLine` of its own.
   */
  line: string;
}

/**
 * The longest line kept pending (characters): a longer run without a newline (a `\r` progress bar, binary output) is
 * emitted in pieces of this length, so one chatty container cannot grow our memory without bound.
 */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Counts the characters the line splitter examined: tests prove the work stays linear in the input. */
export interface DemuxProbe {
  examined: number;
}

/** One stream's unfinished line, kept as pieces so appending and scanning cost only the new text. */
class LineSplitter {
  private readonly decoder = new TextDecoder();
  private pieces: string[] = [];
  private length = 0;

  constructor(
    private readonly stream: StreamName,
    private readonly probe: DemuxProbe | undefined,
  ) {}

  *push(chunk: Buffer): Generator<LogLine> {
    yield* this.take(this.decoder.decode(chunk, { stream: true }));
  }

  *end(): Generator<LogLine> {
    yield* this.take(this.decoder.decode());
    if (this.length > 0) yield this.flush("");
  }

  private *take(text: string): Generator<LogLine> {
    let from = 0;
    // The next newline at or after `from`; found once per newline, so each character is scanned once.
    let newline = -2;
    while (from < text.length) {
      if (newline !== -1 && newline < from) {
        newline = text.indexOf("\n", from);
        if (this.probe) this.probe.examined += (newline === -1 ? text.length : newline + 1) - from;
      }
      const end = newline === -1 ? text.length : newline;
      const room = MAX_LINE_LENGTH - this.length;
      if (end - from > room) {
        yield this.flush(text.slice(from, from + room));
        from += room;
      } else if (newline === -1) {
        this.pieces.push(text.slice(from));
        this.length += text.length - from;
        return;
      } else {
        const { line } = this.flush(text.slice(from, newline));
        yield { stream: this.stream, line: line.endsWith("\r") ? line.slice(0, -1) : line };
        from = newline + 1;
      }
    }
  }

  private flush(last: string): LogLine {
    this.pieces.push(last);
    const line = this.pieces.join("");
    this.pieces = [];
    this.length = 0;
    return { stream: this.stream, line };
  }
}

/**
 * Splits the engine's multiplexed attach/logs framing (8-byte header: stream type, 3 zero bytes, big-endian length)
 * into lines per stream. Containers with a TTY send raw bytes; pass `tty: true` and everything counts as stdout.
 *
 * A line longer than {@link MAX_LINE_LENGTH} characters is emitted in pieces of that length, each a `LogLine` of its
 * own (the last piece ends where the newline was): memory stays bounded and every byte is scanned once.
 */
export async function* demuxLines(source: Readable, tty: boolean, probe?: DemuxProbe): AsyncGenerator<LogLine> {
  const splitters = { stdout: new LineSplitter("stdout", probe), stderr: new LineSplitter("stderr", probe) };
  const frames = new FrameReader();
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (tty) {
      yield* splitters.stdout.push(chunk);
      continue;
    }
    for (const { type, payload } of frames.push(chunk)) {
      // Type 0 is stdin (never sent on logs); treat unknown types as stdout rather than losing output.
      yield* splitters[type === 2 ? "stderr" : "stdout"].push(payload);
    }
  }
  yield* splitters.stdout.end();
  yield* splitters.stderr.end();
}

/**
 * Cuts frames out of the byte stream. Chunks are kept in a list until a whole frame is there: a big frame arriving
 * in many small chunks is copied once, not once per chunk.
 */
class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;

  *push(chunk: Buffer): Generator<{ type: number; payload: Buffer }> {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.size < 8) return;
      const head = this.chunks[0]!.length >= 8 ? this.chunks[0]! : this.merge();
      const total = 8 + head.readUInt32BE(4);
      if (this.size < total) return;
      const all = this.chunks[0]!.length >= total ? this.chunks[0]! : this.merge();
      const rest = all.subarray(total);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      yield { type: all[0]!, payload: all.subarray(8, total) };
    }
  }

  private merge(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    return all;
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
