// `throwaway exec` as users run it: the built binary in a pseudo-terminal (`script` from util-linux) or with piped
// input, against containers `throwaway up --detach` started from a fixture file in a folder of its own.
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BIN,
  containersByFixture,
  idsWithLabel,
  makeProjectDir,
  removeProject,
  requireBuild,
  runCli,
  runInTerminal,
  unique,
} from "../support/cli-up/cli-child.js";

const FIXTURE = new URL("../support/cli-exec/throwaway.fixtures.ts", import.meta.url);

/**
 * Waits (up to 5 s) until the exec's TTY has a size. Engines before API 1.42 (dockerd 20.10 here) can only size it
 * once the command runs, so a command that asks at once would race the resize; newer ones size it before.
 */
const SIZED = 'i=0; while [ "$(stty size)" = "0 0" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done;';

let dir: { dir: string; remove(): void };
let project: string;
let ids: Record<string, string>;

beforeAll(async () => {
  requireBuild();
  dir = makeProjectDir("cli-exec");
  copyFileSync(FIXTURE, join(dir.dir, "throwaway.fixtures.ts"));
  // No file and no --project: the default file in the working directory, and the project named after it.
  const up = await runCli(["up", "--detach"], { cwd: dir.dir, session: unique("cli-exec") });
  expect(up.code, up.stderr).toBe(0);
  project = up.stderr.match(/^Starting 2 fixtures of throwaway\.fixtures\.ts \(project (cli-exec-[a-z0-9]+-[0-9a-f]{8}), kept\)$/m)![1]!;
  ids = containersByFixture(project);
  expect(Object.keys(ids).sort()).toEqual(["shell", "tiny"]);
});

afterAll(async () => {
  if (!dir) return;
  try {
    if (project) {
      const down = await runCli(["down"], { cwd: dir.dir });
      expect(down.code, down.stderr).toBe(0);
      expect(idsWithLabel(`dev.throwaway.project=${project}`)).toEqual({ containers: [], networks: [] });
    }
  } finally {
    if (project) removeProject(project);
    dir.remove();
  }
});

describe("throwaway exec", () => {
  it("runs a command in a TTY sized like the terminal; the output is the container TTY's, the exit code the command's", async () => {
    const { code, output } = await runInTerminal(
      `stty cols 123 rows 45; node ${BIN} exec shell -- sh -c 'tty; ${SIZED} stty size; echo "TERM=$TERM"; exit 7'`,
      {
        cwd: dir.dir,
      },
    );
    expect(code).toBe(7);
    // One \r per line: the container's TTY adds it, the local terminal (raw) must not add a second.
    expect(output).toMatch(/^\/dev\/pts\/\d+\r\n45 123\r\nTERM=xterm\r\n$/);
  });

  it("without a command opens bash when the container has it, else sh; what is typed reaches it", async () => {
    const input = 'echo "shell=$0 answer=$((6*7))"\nexit 3\n';
    const bash = await runInTerminal(`node ${BIN} exec shell`, { cwd: dir.dir, input });
    expect(bash.code).toBe(3);
    expect(bash.output).toContain("shell=bash answer=42\r\n");
    const sh = await runInTerminal(`node ${BIN} exec tiny`, { cwd: dir.dir, input });
    expect(sh.code).toBe(3);
    expect(sh.output).toContain("shell=sh answer=42\r\n");
  });

  it("resizes the container's TTY when the terminal is resized", async () => {
    // The exec prints its size, then waits (up to 10 s) for the new one; the terminal is resized once the exec has
    // said so (a file in the container, looked for for up to 10 s). `stty cols 80 rows 24` may resize in two steps
    // (30x80 first), so the exec waits for the final size rather than for any change.
    const script = join(dir.dir, "resize.sh");
    writeFileSync(
      script,
      [
        "stty cols 100 rows 30",
        // Background jobs of a non-interactive shell read /dev/null unless told otherwise: keep the terminal.
        "exec 3<&0",
        `node ${BIN} exec shell -- sh -c '${SIZED} stty size; touch /tmp/sized; i=0; while [ "$(stty size)" != "24 80" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; stty size; rm /tmp/sized' <&3 &`,
        `n=0; until docker exec ${ids.shell} test -f /tmp/sized 2>/dev/null || [ $n -gt 200 ]; do sleep 0.05; n=$((n+1)); done`,
        "stty cols 80 rows 24",
        "wait $!",
      ].join("\n"),
    );
    const { code, output } = await runInTerminal(`sh ${script}`, { cwd: dir.dir });
    expect(code).toBe(0);
    expect(output).toBe("30 100\r\n24 80\r\n");
  });

  it("without a terminal streams piped input (its end closes the command's stdin) and keeps stdout and stderr apart", async () => {
    const piped = await runCli(["exec", "tiny", "--", "sh", "-c", 'read line; echo "got $line"; echo oops >&2; exit 5'], {
      cwd: dir.dir,
      input: "hello\n",
    });
    expect(piped).toEqual({ code: 5, stdout: "got hello\n", stderr: "oops\n" });
    const big = await runCli(["exec", "tiny", "--", "wc", "-c"], { cwd: dir.dir, input: "x".repeat(1024 * 1024) });
    expect(big).toEqual({ code: 0, stdout: "1048576\n", stderr: "" });
  });

  it("takes the environment, user and working directory; -T refuses a TTY even in a terminal", async () => {
    const options = await runCli(
      ["exec", "-e", "GREETING=hi there", "-u", "nobody", "-w", "/tmp", "tiny", "--", "sh", "-c", 'echo "$GREETING|$(id -un)|$(pwd)"'],
      {
        cwd: dir.dir,
      },
    );
    expect(options).toEqual({ code: 0, stdout: "hi there|nobody|/tmp\n", stderr: "" });
    const noTty = await runInTerminal(`node ${BIN} exec -T tiny -- tty`, { cwd: dir.dir });
    expect(noTty).toEqual({ code: 1, output: "not a tty\r\n" });
  });

  it("finds the project by --project or --file from anywhere", async () => {
    const byProject = await runCli(["exec", "--project", project, "tiny", "--", "hostname"]);
    expect(byProject).toEqual({ code: 0, stdout: `${ids.tiny!.slice(0, 12)}\n`, stderr: "" });
    const byFile = await runCli(["exec", "-f", join(dir.dir, "throwaway.fixtures.ts"), "shell", "--", "hostname"]);
    expect(byFile).toEqual({ code: 0, stdout: `${ids.shell!.slice(0, 12)}\n`, stderr: "" });
  });

  it("names the running fixtures when the name is wrong, and says so when the container is stopped; up starts it again", async () => {
    expect(await runCli(["exec", "nope"], { cwd: dir.dir })).toEqual({
      code: 1,
      stdout: "",
      stderr: `throwaway exec: Expected \`exec <name>\` to be a running fixture container of project ${project} (running: shell, tiny), got \`"nope"\` (string)\n`,
    });
    const other = unique("cli-exec-none");
    expect(await runCli(["exec", "-p", other, "tiny"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `throwaway exec: Expected \`exec <name>\` to be a running fixture container of project ${other} (none is running: start them with \`throwaway up\`), got \`"tiny"\` (string)\n`,
    });
    expect(await runCli(["exec"], { cwd: dir.dir })).toEqual({
      code: 2,
      stdout: "",
      stderr: "throwaway exec: missing the fixture name, e.g. `throwaway exec mysql`. Run `throwaway exec --help` for usage.\n",
    });
    expect((await runCli(["exec", "-e", "NOVALUE", "tiny"], { cwd: dir.dir })).stderr).toBe(
      'throwaway exec: --env takes KEY=value, got "NOVALUE". Run `throwaway exec --help` for usage.\n',
    );

    execFileSync("docker", ["stop", "-t", "0", ids.tiny!], { stdio: "ignore" });
    expect((await runCli(["exec", "tiny", "--", "true"], { cwd: dir.dir })).stderr).toBe(
      `throwaway exec: Expected \`exec <name>\` to be a running fixture container of project ${project} (tiny's container is exited: \`throwaway up\` starts it again), got \`"tiny"\` (string)\n`,
    );
    const again = await runCli(["up", "--detach"], { cwd: dir.dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`  tiny   reused container ${ids.tiny!.slice(0, 12)}, ready in `);
    expect(await runCli(["exec", "tiny", "--", "echo", "back"], { cwd: dir.dir })).toEqual({ code: 0, stdout: "back\n", stderr: "" });
  });
});
