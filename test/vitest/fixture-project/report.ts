import { appendFileSync } from "node:fs";
import { threadId } from "node:worker_threads";

/** One line per observation, appended to the file the outer test reads (small appends do not interleave). */
export function report(entry: Record<string, unknown>): void {
  const file = process.env.FIXTURE_REPORT;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ pid: process.pid, threadId, ...entry })}\n`);
}
