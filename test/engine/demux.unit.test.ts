import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { demuxLines, type LogLine, MAX_LINE_LENGTH } from "../../src/engine/demux.js";

/** One multiplexed frame as the engine sends it: stream type, 3 zero bytes, big-endian length, payload. */
function frame(type: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A fake log stream that records whether it was read to the end before each line came out. */
function source(chunks: Buffer[]): { stream: Readable; drained: () => boolean } {
  let done = false;
  function* generate() {
    yield* chunks;
    done = true;
  }
  return { stream: Readable.from(generate(), { objectMode: false }), drained: () => done };
}

async function collect(lines: AsyncGenerator<LogLine>, drained: () => boolean) {
  const out: { line: LogLine; early: boolean }[] = [];
  for await (const line of lines) out.push({ line, early: !drained() });
  return out;
}

describe("demuxLines on output without newlines", () => {
  const total = 4 * 1024 * 1024;
  const chunkSize = 4096;

  it("emits a capped line as it goes instead of keeping everything pending, and scans each byte a bounded number of times", async () => {
    const payload = Buffer.alloc(chunkSize, "x");
    const { stream, drained } = source(Array.from({ length: total / chunkSize }, () => frame(1, payload)));
    const probe = { examined: 0 };
    const out = await collect(demuxLines(stream, false, probe), drained);
    expect(out.map(({ line }) => line.line).join("")).toBe("x".repeat(total));
    expect(out.some(({ early }) => early)).toBe(true);
    for (const { line } of out) expect(line.line.length).toBeLessThanOrEqual(1024 * 1024);
    // Linear: the quadratic re-scan would examine ~total²/(2·chunkSize) ≈ 2 GiB characters.
    expect(probe.examined).toBeGreaterThanOrEqual(total);
    expect(probe.examined).toBeLessThanOrEqual(2 * total);
  });

  it("does the same for a TTY's carriage-return progress bar", async () => {
    const bar = Buffer.from("downloading  42% [=========>          ]\r");
    const count = total / bar.length;
    const { stream, drained } = source(Array.from({ length: count }, () => bar));
    const probe = { examined: 0 };
    const out = await collect(demuxLines(stream, true, probe), drained);
    expect(out.map(({ line }) => line.line).join("")).toBe(bar.toString().repeat(count));
    expect(out.some(({ early }) => early)).toBe(true);
    expect(probe.examined).toBeLessThanOrEqual(2 * bar.length * count);
  });

  it("cuts a long line at the cap, scanning a single big chunk once", async () => {
    const text = `${"y".repeat(3 * MAX_LINE_LENGTH + 5)}\nend\n`;
    const { stream, drained } = source([Buffer.from(text)]);
    const probe = { examined: 0 };
    const out = await collect(demuxLines(stream, true, probe), drained);
    expect(out.map(({ line }) => line.line.length)).toEqual([MAX_LINE_LENGTH, MAX_LINE_LENGTH, MAX_LINE_LENGTH, 5, 3]);
    expect(probe.examined).toBe(text.length);
  });

  it("still splits ordinary lines per stream, across frames and chunk boundaries, dropping a CR before the LF", async () => {
    const bytes = Buffer.concat([frame(1, Buffer.from("one\r\ntw")), frame(2, Buffer.from("err\n")), frame(1, Buffer.from("o\nthree"))]);
    // Cut the framing itself at awkward places.
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 12), bytes.subarray(12)];
    const { stream, drained } = source(chunks);
    const out = await collect(demuxLines(stream, false), drained);
    expect(out.map(({ line }) => line)).toEqual([
      { stream: "stdout", line: "one" },
      { stream: "stderr", line: "err" },
      { stream: "stdout", line: "two" },
      { stream: "stdout", line: "three" },
    ]);
  });

  it("keeps a multi-byte character split across frames whole", async () => {
    const text = Buffer.from("héllo\n");
    const { stream, drained } = source([frame(1, text.subarray(0, 2)), frame(1, text.subarray(2))]);
    const out = await collect(demuxLines(stream, false), drained);
    expect(out.map(({ line }) => line.line)).toEqual(["héllo"]);
  });
});
