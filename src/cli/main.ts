#!/usr/bin/env node
/**
 * `throwaway <command>`: a dispatcher over the command table below. Commands load only when run, so `throwaway
 * --help` and a mistyped command answer at once. To add one, write `src/cli/<name>.ts` exporting a
 * {@link CliCommand} and add a line to `commands`.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { debugEnabled } from "../debug.js";
import { ThrowawayError } from "../errors.js";
import { VERSION } from "../version.js";
import { type CliCommand, type CliIo, EXIT, UsageError } from "./command.js";

interface CommandEntry {
  summary: string;
  load(): Promise<CliCommand>;
}

const commands: Record<string, CommandEntry> = {
  ps: { summary: "List throwaway's containers, networks, volumes and images, by session", load: async () => (await import("./ps.js")).ps },
  prune: {
    summary: "Remove what dead sessions left behind (or everything of ours, with --all)",
    load: async () => (await import("./prune.js")).prune,
  },
  up: {
    summary: "Start a fixture file's containers for development, print how to reach them, stream their logs",
    load: async () => (await import("./up/up.js")).up,
  },
  down: {
    summary: "Remove what `throwaway up` started for a fixture file, kept containers included",
    load: async () => (await import("./down.js")).down,
  },
  exec: {
    summary: "Open a shell (or run a command) in a running fixture container, by fixture name",
    load: async () => (await import("./exec.js")).exec,
  },
};

function topHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const list = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `Usage: throwaway <command> [options]

Commands:
${list.join("\n")}

Options:
  -h, --help     show this help (\`throwaway <command> --help\` for a command's)
  -v, --version  print the version

Environment: DOCKER_HOST (the engine), NODE_DEBUG=throwaway (say what is done).`;
}

/** Runs one command line; returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    // `throwaway help ps` reads like `throwaway ps --help`.
    if (first === "help" && rest[0] !== undefined) return main([rest[0], "--help"], io);
    (first === undefined ? io.err : io.out)(topHelp());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === "-v" || first === "--version") {
    io.out(VERSION);
    return EXIT.ok;
  }
  const entry = Object.hasOwn(commands, first) ? commands[first] : undefined;
  if (!entry) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command ${first}`;
    io.err(`throwaway: ${what}. Commands: ${Object.keys(commands).join(", ")}. Run \`throwaway --help\` for usage.`);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...command.options, help: { type: "boolean", short: "h" } },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(usageText(error));
    }
    if (parsed.values.help) {
      io.out(command.help);
      return EXIT.ok;
    }
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`throwaway ${command.name}: ${error.message}. Run \`throwaway ${command.name} --help\` for usage.`);
      return EXIT.usage;
    }
    io.err(`throwaway ${command.name}: ${error instanceof ThrowawayError ? error.shortMessage : (error as Error).message}`);
    if (debugEnabled() && error instanceof Error) io.err(error.stack ?? "");
    return EXIT.failure;
  }
}

/** parseArgs' messages say a lot in a long sentence; keep the fact and drop the advice about `--`. */
function usageText(error: unknown): string {
  const message = (error as Error).message;
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(message);
  if (missing) return `option ${missing[1]!.replace(/^-\w, /, "")} needs a value`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument ${positional[1]}`;
  return message.split(". ")[0]!.replace(/\.$/, "");
}

function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

// Run when executed (directly or through the npm bin symlink), not when imported by tests.
const invoked = process.argv[1];
if (invoked && realpathSync(invoked) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
