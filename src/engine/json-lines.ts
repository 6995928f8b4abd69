import type { Readable } from "node:stream";

/** The engine's progress streams (pull, push, build) are JSON objects, one per line. */
export async function* jsonLines<T = Record<string, unknown>>(stream: Readable): AsyncGenerator<T> {
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parse<T>(line);
      newline = buffered.indexOf("\n");
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield parse<T>(rest);
}

function parse<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    // Some proxies and old engines interleave plain text; keep it as a status line rather than failing the pull.
    return { stream: `${line}\n` } as T;
  }
}

export interface EngineProgressLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
  stream?: string;
  aux?: { ID?: string; Tag?: string; Digest?: string };
}
