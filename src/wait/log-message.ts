import { InvalidOptionError } from "../errors.js";
import { BaseWaitStrategy, OutputEnded, quote, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when a log line (stdout or stderr) matches `pattern` `times` times, counting from the container's start, so
 * lines printed before the wait began count too. The log stream is followed, not polled: readiness is seen as soon
 * as the engine relays the line. Each line is matched on its own (without its newline), so a pattern spanning lines
 * never matches; a string matches as a substring, a RegExp with `test` (a `/g` or `/y` flag is harmless).
 */
export class LogMessageWaitStrategy extends BaseWaitStrategy {
  readonly pattern: string | RegExp;
  readonly times: number;

  constructor(pattern: string | RegExp, times = 1) {
    super();
    if (typeof pattern !== "string" && !(pattern instanceof RegExp)) {
      throw new InvalidOptionError("Wait.forLogMessage(pattern)", "a string or a RegExp", pattern);
    }
    if (pattern === "") throw new InvalidOptionError("Wait.forLogMessage(pattern)", "a non-empty string", pattern);
    if (!Number.isInteger(times) || times < 1) {
      throw new InvalidOptionError("Wait.forLogMessage(pattern, times)", "a whole number of at least 1", times);
    }
    this.pattern = pattern;
    this.times = times;
  }

  describe(): string {
    const what = typeof this.pattern === "string" ? JSON.stringify(this.pattern) : String(this.pattern);
    return `log message ${what}${this.times > 1 ? ` x${this.times}` : ""}`;
  }

  matches(line: string): boolean {
    if (typeof this.pattern === "string") return line.includes(this.pattern);
    // A /g or /y regex keeps state between test() calls; reset so each line is tested from its start.
    this.pattern.lastIndex = 0;
    return this.pattern.test(line);
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    let seen = 0;
    let last: string | undefined;
    const progress = () =>
      `matched ${seen} of ${this.times} times${last === undefined ? ", no output yet" : `, last line: ${quote(last, 120)}`}`;
    context.attempt();
    context.lastError(progress());
    const lines = await untilAborted(target.logLines(context.signal), context.signal);
    const iterator = lines[Symbol.asyncIterator]();
    // The engine ends the stream when the container stops; the abort (deadline, exit, a sibling in Wait.forAny
    // winning) must end it too, even if the stream does not notice its signal.
    const onAbort = () => void iterator.return?.().catch(() => {});
    context.signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const next = await untilAborted(iterator.next(), context.signal);
        if (next.done) break;
        last = next.value.line;
        if (this.matches(last)) {
          seen++;
          if (seen >= this.times) return;
        }
        context.lastError(progress());
      }
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      // Close the follow stream now rather than when the whole wait ends (a composite may wait on for long).
      if (!context.signal.aborted) void iterator.return?.()?.catch(() => {});
    }
    if (context.signal.aborted) throw context.signal.reason;
    throw new OutputEnded(`the log stream ended after ${seen} of ${this.times} matches (did the container stop?)`);
  }
}
