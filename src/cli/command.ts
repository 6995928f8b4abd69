import type { ParseArgsConfig } from "node:util";

/** Where a command writes; tests capture it, the binary writes to the process's streams. */
export interface CliIo {
  /** Results: what scripts read. */
  out(line: string): void;
  /** Errors, warnings and progress: what people read. */
  err(line: string): void;
}

/** Exit codes, as shells and CI expect them. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed (no engine, a removal failed). */
  failure: 1,
  /** The command line was wrong; nothing was done. */
  usage: 2,
} as const;

/**
 * One `throwaway <name>` command. `main.ts` parses the arguments with `options` (strict: unknown options are usage
 * errors), handles `--help`, and turns a thrown error into one line and exit code 1.
 */
export interface CliCommand {
  name: string;
  /** One line for `throwaway --help`. */
  summary: string;
  /** The whole `throwaway <name> --help` text, usage line first. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Whether the command takes positional arguments. Default `false`. */
  allowPositionals?: boolean;
  run(values: Record<string, string | boolean | (string | boolean)[] | undefined>, positionals: string[], io: CliIo): Promise<number>;
}

/** A command line that cannot be run; printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
