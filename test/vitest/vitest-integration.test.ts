import { describe, expect, it } from "vitest";
import { countBy, type FixtureRun, runFixtureProject } from "./run-fixture-project.js";

type TestEntry = {
  kind: "test";
  file: string;
  pid: number;
  threadId: number;
  main_pid: number;
  test_container: string;
  file_container: string;
  worker_container: string;
  global_container: string;
};

const distinct = (values: unknown[]) => new Set(values).size;

/** Checks what every run of the four `scopes-*` files must show, whatever the pool. */
function expectScopes(run: FixtureRun, extra: { test: number; file: number } & Record<string, number>) {
  const tests = run.report.filter((e) => e.kind === "test") as TestEntry[];
  const created = run.created;
  expect(tests).toHaveLength(8);
  const workers = new Set(tests.map((t) => `${t.pid}/${t.threadId}`));
  // test: a new container for every test; file: one per file, shared by its two tests; worker: one per worker,
  // shared by the files it ran; global: one for the whole run.
  expect(distinct(tests.map((t) => t.test_container))).toBe(8);
  expect(distinct(tests.map((t) => t.file_container))).toBe(4);
  for (const file of new Set(tests.map((t) => t.file))) {
    expect(distinct(tests.filter((t) => t.file === file).map((t) => t.file_container))).toBe(1);
  }
  expect(distinct(tests.map((t) => t.worker_container))).toBe(workers.size);
  for (const worker of workers) {
    expect(distinct(tests.filter((t) => `${t.pid}/${t.threadId}` === worker).map((t) => t.worker_container))).toBe(1);
  }
  expect(distinct(tests.map((t) => t.global_container))).toBe(1);
  // Two workers started their containers side by side (random host ports, engine-chosen names).
  expect(distinct(run.report.map((e) => `${e.pid}/${e.threadId}`))).toBe(2);
  // The engine saw exactly these containers created: nothing started twice, nothing extra.
  expect(
    countBy(created, (c) => c.scope),
    JSON.stringify(created),
  ).toEqual({
    ...extra,
    test: 8 + extra.test,
    file: 4 + extra.file,
    worker: workers.size,
    global: 1,
  });
  // One session for the run: the global setup's (main process) and every worker's containers carry the same id,
  // and it is the inner run's own, not ours.
  expect(distinct(created.map((c) => c.session))).toBe(1);
  expect(created[0]?.session).not.toBe(process.env.THROWAWAY_SESSION_ID);
}

describe("throwaway/vitest in a real vitest run", () => {
  it("forks: one container per test, file, worker and run, one MySQL kept clean per test; failures show their containers' logs; nothing remains", async () => {
    const run = await runFixtureProject({ pool: "forks", filters: ["scopes-", "failing", "mysql"] });
    expect(run.exitCode, run.output).toBe(1);
    expect(run.results.numFailedTests).toBe(1);
    expect(run.results.numPassedTests).toBe(8 + 4);
    const tests = run.report.filter((e) => e.kind === "test") as TestEntry[];
    expectScopes(run, { test: 1, file: 1, mysql: 1, "file-builder": 1 });
    // MySQL: one container for the four tests of mysql.spec.ts, each of which found the seeded database.
    const mysql = run.report.filter((e) => e.kind === "mysql");
    expect(mysql.map((e) => e.test).sort()).toEqual(["changes", "clean", "concurrent one", "concurrent two"]);
    expect(distinct(mysql.map((e) => e.container))).toBe(1);
    // Forks: each worker is a process of its own.
    expect(distinct(tests.map((t) => t.pid))).toBe(2);
    expect(tests.every((t) => t.pid !== t.main_pid)).toBe(true);

    // The failing test's output: its assertion, then the logs of the three containers it used, and of no other.
    const failure = run.output.slice(run.output.indexOf("FAIL  failing.spec.ts"));
    expect(failure).toContain("AssertionError: expected 'the answer' to be 'a different answer'");
    expect(failure).toMatch(
      /ContainerLogs: container [0-9a-f]{12} \(busybox:latest\) of fixture "perTest" printed 1 line:\nhello from the test container\n/,
    );
    expect(failure).toMatch(
      /ContainerLogs: container [0-9a-f]{12} \(busybox:latest\) of fixture "perFile" printed 1 line:\nhello from the file container\n/,
    );
    expect(failure).toMatch(
      /ContainerLogs: last 2 lines of container [0-9a-f]{12} \(busybox:latest\) of fixture "chatty":\nline two\nline three\n/,
    );
    expect(run.output).not.toContain('of fixture "perWorker"');
    expect(run.output.match(/ContainerLogs:/g)).toHaveLength(3);

    // A fixture that depends on a container is torn down first, while the container still runs: also when the
    // test failed.
    const teardowns = run.report.filter((e) => e.kind === "client-teardown");
    expect(teardowns).toHaveLength(9);
    expect(teardowns.every((e) => e.output === "test")).toBe(true);
    expect(teardowns.filter((e) => e.state === "fail").map((e) => e.test)).toEqual([
      "fails while using a test-scoped and a file-scoped container",
    ]);
    expect(run.remaining).toEqual([]);
  });

  it("threads: the same counts, and worker threads join the main process's session", async () => {
    const run = await runFixtureProject({ pool: "threads", filters: ["scopes-"] });
    expect(run.exitCode, run.output).toBe(0);
    expect(run.results.numPassedTests).toBe(8);
    const tests = run.report.filter((e) => e.kind === "test") as TestEntry[];
    expectScopes(run, { test: 0, file: 0 });
    // Threads: every worker lives in the main process.
    expect(tests.every((t) => t.pid === t.main_pid && t.threadId > 0)).toBe(true);
    expect(run.output).not.toContain("ContainerLogs");
    expect(run.remaining).toEqual([]);
  });
});
