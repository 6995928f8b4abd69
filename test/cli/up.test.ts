// `throwaway up` and `throwaway down` as users run them: the built binary as a child process, against busybox
// fixture files (test/support/cli-up), checked with the docker CLI and plain HTTP. The users-service example's
// own file is exercised in up-users-service.test.ts.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchdogPids } from "../reaper/helpers.js";
import {
  containersByFixture,
  FIXTURES,
  idsWithLabel,
  makeProjectDir,
  removeProject,
  requireBuild,
  runCli,
  startCli,
  unique,
} from "../support/cli-up/cli-child.js";

const BASIC = "test/support/cli-up/basic.fixtures.ts";
const projects: string[] = [];

/** A project name for one test; removed after all tests whatever happened. */
function project(prefix: string): string {
  const name = unique(prefix);
  projects.push(name);
  return name;
}

const short = (id: string | undefined) => (id ?? "").slice(0, 12);
const lines = (text: string) => text.split("\n").filter((line) => line !== "");

beforeAll(() => requireBuild());

afterAll(() => {
  const left = projects.filter((name) => idsWithLabel(`dev.throwaway.project=${name}`).containers.length > 0);
  for (const name of projects) removeProject(name);
  expect(left).toEqual([]);
});

describe("throwaway up", () => {
  it("starts each fixture after its needs, prints how to reach them, streams logs, writes an env file; Ctrl-C removes all (130)", async () => {
    const name = project("cli-up-basic");
    const session = unique("cli-up");
    const envFile = join(tmpdir(), `${name}.env`);
    // `--env-file` is the same as `--write-env`; Node 20 would read it itself unless told that its options ended.
    const up = startCli(["up", BASIC, "--project", name, "--env-file", envFile], { session, nodeArgs: ["--"] });
    await up.waitFor(/^ticker +\| tick \d+$/m, "stdout");

    const block = up.stdout().match(/^web +busybox:latest, container [0-9a-f]{12}\n {2}host +127\.0\.0\.1\n {2}port 8080 +(\d+)$/m);
    expect(block).not.toBeNull();
    const port = Number(block![1]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hello from web\n");
    const network = up.stdout().match(/^network +network (throwaway-[0-9a-f]{12})$/m)![1];
    expect(up.stdout()).toMatch(/^ticker +busybox:latest, container [0-9a-f]{12}\n {2}host {2}127\.0\.0\.1$/m);

    const progress = lines(up.stderr());
    expect(progress[0]).toBe(`Starting 3 fixtures of ${BASIC} (project ${name})`);
    const expected = [
      /^ {2}network {2}starting$/,
      /^ {2}network {2}created network throwaway-[0-9a-f]{12} \([\d.]+ m?s\)$/,
      /^ {2}web {6}starting$/,
      /^ {2}web {6}ready in [\d.]+ m?s \(busybox:latest, container [0-9a-f]{12}\)$/,
      /^ {2}ticker {3}starting$/,
      /^ {2}ticker {3}ready in [\d.]+ m?s \(busybox:latest, container [0-9a-f]{12}\)$/,
    ];
    expect(progress.slice(1, 7).map((line, i) => expected[i]!.test(line) || line)).toEqual(expected.map(() => true));
    expect(progress.slice(7, 9)).toEqual([`Wrote ${envFile} (5 variables).`, "Streaming logs. Ctrl-C stops and removes everything."]);
    // Not a terminal, so no colours.
    expect(up.stdout() + up.stderr()).not.toContain("\x1b[");

    expect(readFileSync(envFile, "utf8")).toBe(
      [
        `# Written by \`throwaway up\` for project ${name} (${BASIC}).`,
        `NETWORK_NAME=${network}`,
        "WEB_HOST=127.0.0.1",
        `WEB_PORT=${port}`,
        `WEB_PORT_8080=${port}`,
        "TICKER_HOST=127.0.0.1",
        "",
      ].join("\n"),
    );
    const ids = containersByFixture(name);
    expect(Object.keys(ids).sort()).toEqual(["ticker", "web"]);

    up.process.kill("SIGINT");
    expect(await up.ended, up.stderr()).toEqual({ code: 130, signal: null });
    const after = lines(up.stderr()).slice(9);
    expect(after[0]).toBe("Removing everything...");
    // Dependents first: the ticker, then the web server, then the network they were on.
    expect(after.slice(1).map((line) => line.replace(/ \([\d.]+ m?s\)$/, ""))).toEqual([
      "  ticker   removed",
      "  web      removed",
      "  network  removed",
    ]);
    expect(idsWithLabel(`dev.throwaway.session-id=${session}`)).toEqual({ containers: [], networks: [] });
    expect(existsSync(envFile)).toBe(false);
  });

  it("says which fixture failed in one line, then its last log lines; removes the rest and exits 1", async () => {
    const name = project("cli-up-fail");
    const session = unique("cli-up");
    const { code, stdout, stderr } = await runCli(["up", "test/support/cli-up/failing.fixtures.ts", "-p", name], { session });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const out = lines(stderr);
    const failure = out.findIndex((line) => line.startsWith("throwaway up:"));
    expect(out[failure]).toMatch(
      /^throwaway up: Fixture `broken` failed to start: Container [0-9a-f]{12} \([a-z_]+, busybox:latest\) exited with code 3 after [\d.]+ m?s while waiting for listening ports \(all exposed\)$/,
    );
    expect(out.slice(failure + 1)).toContain("The container was removed; set THROWAWAY_KEEP_ON_FAILURE=true to keep it for debugging.");
    expect(out.slice(-3)).toEqual([
      "Last 50 log lines of the container:",
      "starting the broken service",
      "fatal: /etc/broken.conf: no such file",
    ]);
    expect(out).toContain("  dependent  not started: needs broken, which did not start");
    expect(out.find((line) => line.startsWith("  broken     failed: "))).toMatch(
      /^ {2}broken {5}failed: Container [0-9a-f]{12} .* exited with code 3/,
    );
    expect(out.some((line) => /^ {2}sleeper {4}removed \([\d.]+ m?s\)$/.test(line))).toBe(true);
    expect(idsWithLabel(`dev.throwaway.session-id=${session}`)).toEqual({ containers: [], networks: [] });
  });

  it("refuses broken fixture files with one line (exit 1) and wrong command lines with a pointer to --help (exit 2)", async () => {
    const scratch = makeProjectDir("cli-up-broken");
    try {
      writeFileSync(
        join(scratch.dir, "syntax.fixtures.ts"),
        'import { defineFixtures } from "throwaway";\n\nexport default defineFixtures(\n  .add("x")\n',
      );
      const dir = "test/support/cli-up";
      const cases: [string[], { cwd?: string }, number, string][] = [
        [
          ["up", `${dir}/unknown-need.fixtures.ts`],
          {},
          1,
          `throwaway up: ${dir}/unknown-need.fixtures.ts: Expected \`add("api", needs)\` to be names of fixtures declared before it (db), got \`"cache"\` (string): declare a fixture before the fixtures that need it`,
        ],
        [
          ["up", `${dir}/no-fixtures.fixtures.ts`],
          {},
          1,
          `throwaway up: ${dir}/no-fixtures.fixtures.ts exports no fixtures (it exports answer, default (a function)): export a set, e.g. \`export default defineFixtures().add("db", () => new GenericContainer("mysql:5.7"))\``,
        ],
        [
          ["up", `${dir}/two-sets.fixtures.ts`],
          {},
          1,
          `throwaway up: ${dir}/two-sets.fixtures.ts exports 2 fixture sets (backend, frontend): make the one to start the default export`,
        ],
        [
          ["up", `${dir}/throws.fixtures.ts`],
          {},
          1,
          `throwaway up: ${dir}/throws.fixtures.ts: threw while loading: CLI_TEST_NEVER_SET is not set: ask a colleague for the staging token`,
        ],
        [
          ["up", join(scratch.dir, "syntax.fixtures.ts")],
          {},
          1,
          `throwaway up: ${join(scratch.dir, "syntax.fixtures.ts")}:4:3: Unexpected "."`,
        ],
        [
          ["up", `${dir}/missing.fixtures.ts`],
          {},
          1,
          `throwaway up: Fixture file ${dir}/missing.fixtures.ts does not exist: pass the path of a file that exports defineFixtures()`,
        ],
        [
          ["up"],
          { cwd: scratch.dir },
          1,
          `throwaway up: No fixture file in ${scratch.dir} (looked for throwaway.fixtures.ts, throwaway.fixtures.mts, throwaway.fixtures.js, throwaway.fixtures.mjs): pass its path, e.g. \`throwaway up path/to/throwaway.fixtures.ts\``,
        ],
        [
          ["up", BASIC, "--only", "nope"],
          {},
          2,
          `throwaway up: --only nope: ${BASIC} has no fixture "nope" (it has network, web, ticker). Run \`throwaway up --help\` for usage.`,
        ],
        [["up", BASIC, "extra"], {}, 2, "throwaway up: unexpected argument extra. Run `throwaway up --help` for usage."],
        [
          ["up", BASIC, "--project", "no spaces"],
          {},
          2,
          'throwaway up: --project must be letters, digits, _, . and - starting with a letter or digit (at most 63), got "no spaces". Run `throwaway up --help` for usage.',
        ],
        [["down", "a", "b"], {}, 2, "throwaway down: unexpected argument b. Run `throwaway down --help` for usage."],
      ];
      const results = await Promise.all(cases.map(([args, options]) => runCli(args, options)));
      expect(results.map((r) => ({ code: r.code, stderr: r.stderr, stdout: r.stdout }))).toEqual(
        cases.map(([, , code, line]) => ({ code, stderr: `${line}\n`, stdout: "" })),
      );
    } finally {
      scratch.remove();
    }
  });

  it("--keep: a second up reuses the same containers, a changed definition gets new ones; down removes them all", async () => {
    const name = project("cli-up-keep");
    const [s1, s2, s3, s4, s5] = [unique("cli-up"), unique("cli-up"), unique("cli-up"), unique("cli-up"), unique("cli-up")];
    const args = ["up", BASIC, "-p", name, "--detach"];

    const first = await runCli(args, { session: s1 });
    expect(first.code, first.stderr).toBe(0);
    expect(lines(first.stderr).at(-1)).toBe(
      `Left running (kept): network, web and ticker. \`throwaway exec --project ${name} <name>\` opens a shell in one; \`throwaway down --project ${name}\` removes them.`,
    );
    const ids = containersByFixture(name);
    expect(Object.keys(ids).sort()).toEqual(["ticker", "web"]);
    const networks = idsWithLabel(`dev.throwaway.project=${name}`).networks;
    expect(networks).toHaveLength(1);

    // That `up` has ended: its session's reaper leaves what is kept, and so does pruning the (dead) session.
    for (let i = 0; i < 100 && watchdogPids(s1).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(watchdogPids(s1)).toEqual([]);
    const prune = await runCli(["prune", "--session", s1]);
    expect(prune.code, prune.stderr).toBe(0);
    expect(containersByFixture(name)).toEqual(ids);
    expect(idsWithLabel(`dev.throwaway.project=${name}`).networks).toEqual(networks);

    // Kept: never reaped with their session, and `ps` says so.
    const ps = await runCli(["ps", "--json", "--session", s1]);
    const resources = (
      JSON.parse(ps.stdout) as { sessions: { resources: { kind: string; kept: boolean; labels: Record<string, string> }[] }[] }
    ).sessions[0]!.resources;
    expect(resources.map((r) => [r.kind, r.labels["dev.throwaway.fixture"], r.kept]).sort()).toEqual([
      ["container", "ticker", true],
      ["container", "web", true],
      ["network", "network", true],
    ]);

    const second = await runCli(args, { session: s2 });
    expect(second.code, second.stderr).toBe(0);
    expect(containersByFixture(name)).toEqual(ids);
    expect(idsWithLabel(`dev.throwaway.project=${name}`).networks).toEqual(networks);
    const progress = lines(second.stderr);
    expect(progress[0]).toBe(`Starting 3 fixtures of ${BASIC} (project ${name}, kept)`);
    expect(progress.some((line) => line.startsWith(`  web      reused container ${short(ids.web)}, ready in `))).toBe(true);
    expect(progress.some((line) => /^ {2}network {2}reused network cli-up-keep-[0-9a-f]{8}-network \([\d.]+ m?s\)$/.test(line))).toBe(true);
    expect(progress.some((line) => line.startsWith(`  ticker   reused container ${short(ids.ticker)}, ready in `))).toBe(true);

    // The web server's definition changes (its environment): a new container, the old one removed; the ticker's
    // definition is the same, so it is reused.
    const third = await runCli(args, { session: s3, env: { CLI_TEST_GREETING: "bonjour" } });
    expect(third.code, third.stderr).toBe(0);
    const changed = containersByFixture(name);
    expect(changed.ticker).toBe(ids.ticker);
    expect(changed.web).not.toBe(ids.web);
    expect(lines(third.stderr)).toContain(`  web: removed the previous container ${short(ids.web)} (its definition changed)`);
    const port = Number(third.stdout.match(/^ {2}port 8080 +(\d+)$/m)![1]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("bonjour from web\n");

    // A plain `up` of a kept project reuses it and, on Ctrl-C, leaves it running.
    const plain = startCli(["up", BASIC, "-p", name], { session: s4, env: { CLI_TEST_GREETING: "bonjour" } });
    await plain.waitFor(/Ctrl-C leaves them running/, "stderr");
    plain.process.kill("SIGINT");
    expect(await plain.ended, plain.stderr()).toEqual({ code: 130, signal: null });
    expect(lines(plain.stderr())[1]).toBe(
      "  Kept containers of this project exist: reusing them, and leaving them running (`throwaway down` removes them).",
    );
    expect(lines(plain.stderr()).at(-1)).toBe(
      `Left running (kept): network, web and ticker. \`throwaway down --project ${name}\` removes them.`,
    );
    expect(containersByFixture(name)).toEqual(changed);

    // The network's definition changes: a new network, and the containers of the old one are made anew on it.
    const fourth = await runCli(args, { session: s5, env: { CLI_TEST_GREETING: "bonjour", CLI_TEST_NETWORK_VARIANT: "b" } });
    expect(fourth.code, fourth.stderr).toBe(0);
    const renewed = containersByFixture(name);
    expect(renewed.web).not.toBe(changed.web);
    expect(renewed.ticker).not.toBe(changed.ticker);
    const renewedNetworks = idsWithLabel(`dev.throwaway.project=${name}`).networks;
    expect(renewedNetworks).toHaveLength(1);
    expect(renewedNetworks).not.toEqual(networks);
    const replaced = new RegExp(
      `^ {2}network {2}its definition changed: removed the previous network ${name}-network and this project's containers on it \\([0-9a-f]{12}, [0-9a-f]{12}\\)$`,
    );
    expect(lines(fourth.stderr).filter((line) => replaced.test(line))).toHaveLength(1);
    const variant = execFileSync("docker", ["network", "inspect", "-f", '{{index .Labels "test.network-variant"}}', renewedNetworks[0]!], {
      encoding: "utf8",
    });
    expect(variant.trim()).toBe("b");

    const down = await runCli(["down", "--project", name]);
    expect(down.code, down.stderr).toBe(0);
    expect(lines(down.stdout).sort()).toEqual(
      [
        `removed web (container ${short(renewed.web)})`,
        `removed ticker (container ${short(renewed.ticker)})`,
        `removed network (network ${name}-network)`,
        `Removed project ${name}: 2 containers, 1 network.`,
      ].sort(),
    );
    expect(idsWithLabel(`dev.throwaway.project=${name}`)).toEqual({ containers: [], networks: [] });
    for (const session of [s1, s2, s3, s4, s5])
      expect(idsWithLabel(`dev.throwaway.session-id=${session}`)).toEqual({ containers: [], networks: [] });
    expect((await runCli(["down", "--project", name])).stdout).toBe(`Nothing of project ${name} to remove.\n`);
  });

  it("--only starts a fixture with what it needs; --quiet streams no logs", async () => {
    const name = project("cli-up-only");
    const session = unique("cli-up");
    const up = startCli(["up", BASIC, "-p", name, "--only", "ticker", "--quiet"], { session });
    await up.waitFor(/^Running\. Ctrl-C stops and removes everything\.$/m, "stderr");
    expect(lines(up.stderr())[0]).toBe(`Starting 3 fixtures of ${BASIC} (project ${name})`);
    const ids = containersByFixture(name);
    // The ticker has printed for a while now: with logs streamed, its first lines would be out.
    for (;;) {
      const logs = execFileSync("docker", ["logs", ids.ticker!], { encoding: "utf8" });
      if (logs.includes("tick 5")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(up.stdout()).not.toContain("|");
    up.process.kill("SIGTERM");
    expect((await up.ended).code, up.stderr()).toBe(143);
    expect(idsWithLabel(`dev.throwaway.session-id=${session}`)).toEqual({ containers: [], networks: [] });

    const web = await runCli(["up", BASIC, "-p", name, "--only", "web", "-d"], { session });
    expect(lines(web.stderr)[0]).toBe(`Starting 2 fixtures of ${BASIC} (project ${name}, kept)`);
    expect(Object.keys(containersByFixture(name))).toEqual(["web"]);
    const down = await runCli(["down", "-p", name]);
    expect(down.code, down.stderr).toBe(0);
  });

  it("takes a JavaScript file of named unstarted containers, one fixture per export; colours with FORCE_COLOR", async () => {
    const name = project("cli-up-builders");
    const up = await runCli(["up", join(FIXTURES, "builders.fixtures.mjs"), "-p", name, "-d"], { env: { FORCE_COLOR: "1" } });
    expect(up.code, up.stderr).toBe(0);
    const ids = containersByFixture(name);
    expect(Object.keys(ids).sort()).toEqual(["first", "second"]);
    // Bold and the fixture's colour (cyan for the first), padded to the longest name.
    expect(lines(up.stdout)).toContain(`\x1b[1m\x1b[36mfirst \x1b[39m\x1b[22m  busybox:latest, container ${short(ids.first)}`);
    expect(up.stderr).toContain(`Starting 2 fixtures of test/support/cli-up/builders.fixtures.mjs (project ${name}, kept)`);
    const down = await runCli(["down", "-p", name]);
    expect(down.code, down.stderr).toBe(0);
  });
});
