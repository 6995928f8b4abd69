import type { Readable } from "node:stream";
import { type RunnerTestFile, type TestContext, TestRunner } from "vitest";
import { env } from "../config.js";
import type { StartedContainer } from "../container/started-container.js";
import { debug } from "../debug.js";
import { describeContainer } from "../errors.js";

/** Lines added to a failing test's output per container, unless the fixture or `THROWAWAY_VITEST_LOG_LINES` says otherwise. */
export const DEFAULT_FAILURE_LOG_LINES = 50;

// The failure hook runs after the test, so reading logs must not hang it: a container that no longer answers gets a
// note instead of its logs.
const LOG_READ_TIMEOUT_MS = 3_000;

// Marks a test file that already has the hook. A global symbol, so two copies of the package in one tree do not add
// the logs twice.
const HOOKED = Symbol.for("throwaway.vitest.failure-logs");

interface Watched {
  container: StartedContainer;
  lines: number | undefined;
}

// Fixture values that are containers started by our fixtures, with the line count their fixture asked for.
const watched = new WeakMap<object, Watched>();

/** Marks `value` (the fixture's value) as standing for `container` when a test that used it fails. */
export function watchContainer(value: object, container: StartedContainer, lines: number | undefined): void {
  watched.set(value, { container, lines });
}

/**
 * Makes failures in `file` carry the logs of the containers the failing test used. vitest runs `afterEach` hooks
 * before it tears down test-scoped fixtures, so every container is still there to be read; later hooks
 * (`onTestFailed`) run after the teardown, and annotations are refused once a test has failed.
 */
export function installFailureHook(file: RunnerTestFile | undefined): void {
  if (!file || HOOKED in file) return;
  Object.defineProperty(file, HOOKED, { value: true });
  TestRunner.getSuiteHooks(file).afterEach.push(attachLogsOnFailure);
}

/** The test file the running fixture belongs to: from the test's context, else the test or file vitest is running. */
export function currentTestFile(context: unknown): RunnerTestFile | undefined {
  const task = (context as { task?: { file?: RunnerTestFile } } | undefined)?.task;
  if (task?.file) return task.file;
  const test = TestRunner.getCurrentTest();
  if (test) return test.file;
  // A file- or worker-scoped fixture first used by a `beforeAll` hook runs outside any test; vitest then still points
  // at the file it runs.
  return (TestRunner.getCurrentSuite() as { file?: RunnerTestFile } | undefined)?.file;
}

async function attachLogsOnFailure(context: TestContext): Promise<void> {
  const task = context.task;
  // `fails` tests pass by failing; vitest drops their errors afterwards.
  if (task.result?.state !== "fail" || task.fails) return;
  const byId = new Map<string, { watched: Watched; names: string[] }>();
  for (const [name, value] of Object.entries(context)) {
    if (typeof value !== "object" || value === null) continue;
    const entry = watched.get(value);
    if (!entry) continue;
    const id = entry.container.getId();
    const seen = byId.get(id);
    if (seen) seen.names.push(name);
    else byId.set(id, { watched: entry, names: [name] });
  }
  if (byId.size === 0) return;
  const blocks = await Promise.all([...byId.values()].map(({ watched, names }) => describeLogs(watched, names)));
  task.result.errors ??= [];
  for (const message of blocks) {
    // An extra entry, not an edit of the test's own error: reporters print it as its own block under the test, and
    // JSON/JUnit reporters carry it too. No stack: it is output, not a throw site.
    if (message) task.result.errors.push({ name: "ContainerLogs", message, stack: "" });
  }
}

async function describeLogs({ container, lines }: Watched, names: string[]): Promise<string | undefined> {
  const limit = lines ?? defaultLineCount();
  if (limit === 0) return undefined;
  const what = `${describeContainer({ containerId: container.getId(), image: container.getImage() })} of fixture ${names
    .map((n) => `"${n}"`)
    .join(", ")}`;
  let output: string[];
  try {
    output = await tailLines(container, limit);
  } catch (error) {
    return `${what}: could not read its logs: ${error instanceof Error ? error.message : String(error)}`;
  }
  debug("vitest", `attaching ${output.length} log lines of ${what} to failed test`);
  if (output.length === 0) return `${what} printed nothing`;
  if (output.length < limit) return `${what} printed ${output.length === 1 ? "1 line" : `${output.length} lines`}:\n${output.join("\n")}`;
  return `last ${limit === 1 ? "line" : `${limit} lines`} of ${what}:\n${output.join("\n")}`;
}

async function tailLines(container: StartedContainer, tail: number): Promise<string[]> {
  let stream: Readable | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stream?.destroy();
      reject(new Error(`the engine did not answer within ${LOG_READ_TIMEOUT_MS} ms`));
    }, LOG_READ_TIMEOUT_MS);
  });
  const read = (async () => {
    stream = await container.logs({ tail });
    const lines: string[] = [];
    for await (const line of stream) lines.push(String(line));
    return lines;
  })();
  read.catch(() => {}); // settles after the race is lost: not an unhandled rejection
  try {
    return await Promise.race([read, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function defaultLineCount(): number {
  return env.vitestLogLines(DEFAULT_FAILURE_LOG_LINES);
}
