import { InvalidOptionError } from "../errors.js";
import { BaseWaitStrategy, type WaitContext, type WaitTarget } from "./strategy.js";

/**
 * Ready when a log line (stdout or stderr) matches `pattern` `times` times, counting from the container's start, so
 * lines printed before the wait began count too. The log stream is followed, not polled: readiness is seen as soon
 * as the engine relays the line.
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
    context.attempt();
    const lines = await target.logLines(context.signal);
    for await (const { line } of lines) {
      if (this.matches(line)) {
        seen++;
        if (seen >= this.times) return;
      }
      context.lastError(`matched ${seen} of ${this.times} times`);
    }
    context.lastError(`the log stream ended after ${seen} of ${this.times} matches`);
    if (context.signal.aborted) throw context.signal.reason;
    throw new Error(`the log stream ended after ${seen} of ${this.times} matches`);
  }
}
