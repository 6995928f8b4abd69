import { InvalidOptionError } from "../errors.js";
import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, quote, untilAborted, type WaitContext, type WaitTarget } from "./strategy.js";

/** What the engine prints when it could not start the command's process at all (missing binary or shell). */
const CANNOT_START = /OCI runtime exec failed|executable file not found|no such file or directory/i;

/**
 * Ready when a command run in the container exits 0, e.g. `Wait.forSuccessfulCommand("pg_isready -q")`. A string
 * runs through `/bin/sh -c`; an array runs as is (no shell: works on images without one). Each run costs three
 * engine calls and a process in the container, so runs start 10 ms apart and back off to 100 ms. When the command
 * cannot start at all (the image has no such binary, or no shell for a string), the wait fails at once.
 */
export class SuccessfulCommandWaitStrategy extends BaseWaitStrategy {
  readonly command: readonly string[];
  private readonly shown: string;

  constructor(command: string | readonly string[]) {
    super();
    if (typeof command === "string") {
      if (command.trim() === "") throw new InvalidOptionError("Wait.forSuccessfulCommand(command)", "a non-empty shell command", command);
      this.command = ["/bin/sh", "-c", command];
      this.shown = command;
    } else if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === "string") && command[0] !== "") {
      this.command = [...command];
      this.shown = JSON.stringify(command);
    } else {
      throw new InvalidOptionError("Wait.forSuccessfulCommand(command)", "a shell string or a non-empty array of strings", command);
    }
  }

  describe(): string {
    return `command ${this.shown} exits 0`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    await poll(
      context,
      async () => {
        const result = await untilAborted(target.exec([...this.command], context.signal), context.signal);
        if (result.exitCode === 0) return;
        const output = result.output.trim();
        if ((result.exitCode === 126 || result.exitCode === 127) && CANNOT_START.test(output)) {
          const fix =
            this.command[0] === "/bin/sh" ? ": the image has no /bin/sh; pass the command as an array to run it without a shell" : "";
          throw new PermanentFailure(`the command cannot run in this container (exit ${result.exitCode}: ${quote(output)})${fix}`);
        }
        throw new Error(`exited with code ${result.exitCode}${output ? `: ${quote(output)}` : " without output"}`);
      },
      { minIntervalMs: 10, maxIntervalMs: 100, factor: 1.5 },
    );
  }
}
