import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { getEngine, LABELS } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { getHostname, getPidScope } from "../../src/reaper/session.js";
import { VERSION } from "../../src/version.js";
import { exists, leftOf, NOTHING, newSessionId, ROOT, type RunningChild, requireBuild, startChild } from "../reaper/helpers.js";

const IMAGE = process.env.THROWAWAY_TEST_IMAGE ?? "busybox:latest";

/** Runs the CLI in this process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(...line.split("\n")), err: (line) => err.push(...line.split("\n")) });
  return { code, out, err };
}

/** A pid that provably ran on this host and is gone now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

const created: string[] = [];

/** A container as a killed run would have left it: its labels name a creator pid that is gone. */
async function leftover(session: string, pid: number, extra: Record<string, string> = {}): Promise<string> {
  const engine = await getEngine();
  const id = await engine.createContainer(
    {
      Image: IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: {
        [LABELS.session]: session,
        [LABELS.version]: VERSION,
        [LABELS.pid]: String(pid),
        [LABELS.hostname]: getHostname(),
        [LABELS.pidScope]: getPidScope(),
        ...extra,
      },
    },
    {},
  );
  created.push(id);
  return id;
}

let live: RunningChild;

beforeAll(async () => {
  requireBuild();
  live = await startChild(newSessionId(), ["--containers", "1", "--network"]);
});

afterAll(async () => {
  for (const id of created) execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  if (!live) return;
  live.send("exit");
  await live.ended;
  expect(leftOf(live.report.session)).toEqual(NOTHING);
});

describe("throwaway (no command)", () => {
  it("prints the command list: on stdout with --help (exit 0), on stderr without anything (exit 2)", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.out.slice(0, 5)).toEqual([
      "Usage: throwaway <command> [options]",
      "",
      "Commands:",
      "  ps     List throwaway's containers, networks, volumes and images, by session",
      "  prune  Remove what dead sessions left behind (or everything of ours, with --all)",
    ]);
    const bare = await cli();
    expect(bare.code).toBe(2);
    expect(bare.out).toEqual([]);
    expect(bare.err).toEqual(help.out);
  });

  it("prints the version", async () => {
    expect(await cli("--version")).toEqual({ code: 0, out: [VERSION], err: [] });
  });

  it("names an unknown command in one line, exit 2", async () => {
    const { code, out, err } = await cli("rm");
    expect({ code, out }).toEqual({ code: 2, out: [] });
    // Other commands join the table over time: the list must start with ours and name them all.
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^throwaway: unknown command rm\. Commands: ps, prune(, [a-z]+)*\. Run `throwaway --help` for usage\.$/);
  });

  it("reads `help <command>` as `<command> --help`", async () => {
    const help = await cli("help", "prune");
    expect(help.code).toBe(0);
    expect(help.out[0]).toBe("Usage: throwaway prune [--all] [--include-kept] [--session <id>] [--dry-run]");
  });
});

describe("usage errors", () => {
  it.each([
    [["prune", "--bogus"], "throwaway prune: unknown option --bogus. Run `throwaway prune --help` for usage."],
    [["ps", "--session"], "throwaway ps: option --session needs a value. Run `throwaway ps --help` for usage."],
    [["ps", "extra"], "throwaway ps: unexpected argument extra. Run `throwaway ps --help` for usage."],
  ])("%j is one line on stderr, exit 2, nothing done", async (argv, message) => {
    expect(await cli(...argv)).toEqual({ code: 2, out: [], err: [message] });
  });
});

describe("throwaway ps", () => {
  it("shows a live session's resources with its status", async () => {
    const { code, out } = await cli("ps", "--session", live.report.session);
    expect(code).toBe(0);
    expect(out[0]).toMatch(
      new RegExp(`^session ${live.report.session} {2}alive \\(pid ${live.report.pid} is running\\) {2}started \\d+[smhd] ago$`),
    );
    expect(out[1]).toMatch(/^ {2}KIND {7}ID {12}NAME +IMAGE +STATE +AGE$/);
    const rows = out.slice(2, 4).sort();
    expect(rows[0]).toMatch(
      new RegExp(`^ {2}container  ${live.report.containers[0]!.slice(0, 12)}  \\S+ +busybox:latest +running +\\d+[smhd]$`),
    );
    expect(rows[1]).toMatch(new RegExp(`^ {2}network {4}${live.report.networks[0]!.slice(0, 12)}  throwaway-[0-9a-f]+ +\\d+[smhd]$`));
    expect(out.at(-1)).toBe("1 session: 1 alive, 0 dead, 0 unknown.");
  });

  it("tells a dead session and kept resources apart, as JSON too", async () => {
    const session = newSessionId();
    const pid = deadPid();
    const plain = await leftover(session, pid);
    const kept = await leftover(session, pid, { [LABELS.keep]: "true" });
    const { code, out } = await cli("ps", "--session", session, "--json");
    expect(code).toBe(0);
    const doc = JSON.parse(out.join("\n")) as {
      engine: string;
      sessions: { id: string; status: string; reason: string; pids: number[]; resources: { id: string; kept: boolean }[] }[];
    };
    expect(doc.sessions).toHaveLength(1);
    expect(doc.sessions[0]).toMatchObject({ id: session, status: "dead", reason: `pid ${pid} is gone`, pids: [pid] });
    expect(doc.sessions[0]!.resources.map((r) => [r.id, r.kept]).sort()).toEqual(
      [
        [plain, false],
        [kept, true],
      ].sort(),
    );
    const text = await cli("ps", "--session", session);
    expect(text.out.find((line) => line.includes(kept.slice(0, 12)))).toMatch(/ {2}kept$/);
    expect(text.out.at(-1)).toBe("1 session: 0 alive, 1 dead, 0 unknown. `throwaway prune` removes what the dead ones left.");
  });

  it("says so when there is nothing", async () => {
    const session = newSessionId();
    expect(await cli("ps", "--session", session)).toEqual({
      code: 0,
      out: [`No resources of session ${session} on unix:///var/run/docker.sock.`],
      err: [],
    });
  });
});

describe("throwaway prune", () => {
  it("removes a dead session's leftovers (not its kept ones), after a dry run that removes nothing", async () => {
    const session = newSessionId();
    const pid = deadPid();
    const plain = await leftover(session, pid);
    const kept = await leftover(session, pid, { [LABELS.keep]: "true" });

    const dry = await cli("prune", "--session", session, "--dry-run");
    expect(dry).toEqual({
      code: 0,
      out: [
        `session ${session} (dead: pid ${pid} is gone)`,
        expect.stringMatching(new RegExp(`^ {2}would remove container ${plain.slice(0, 12)} \\(\\S+, busybox:latest\\)$`)),
        "Would remove 1 container of 1 session; run without --dry-run to remove them.",
      ],
      err: [],
    });
    expect(exists("container", plain)).toBe(true);

    const real = await cli("prune", "--session", session);
    expect(real.code).toBe(0);
    expect(real.out[1]).toMatch(new RegExp(`^ {2}removed container ${plain.slice(0, 12)} `));
    expect(real.out.at(-1)).toBe("Removed 1 container of 1 session.");
    expect(exists("container", plain)).toBe(false);
    expect(exists("container", kept)).toBe(true);

    expect(await cli("prune", "--session", session)).toEqual({
      code: 0,
      out: [`Nothing to prune on unix:///var/run/docker.sock. 1 kept resource left alone: --include-kept removes those too.`],
      err: [],
    });
    const withKept = await cli("prune", "--session", session, "--include-kept");
    expect(withKept.out[1]).toMatch(new RegExp(`^ {2}removed container ${kept.slice(0, 12)} .*\\[kept\\]$`));
    expect(exists("container", kept)).toBe(false);
  });

  it("leaves a live session alone unless --all (checked with --dry-run: other people's runs share this engine)", async () => {
    const session = live.report.session;
    expect(await cli("prune", "--session", session)).toEqual({
      code: 0,
      out: ["Nothing to prune on unix:///var/run/docker.sock. 1 session left alone (1 alive): --all removes those too."],
      err: [],
    });
    const all = await cli("prune", "--session", session, "--all", "--dry-run");
    expect(all.code).toBe(0);
    expect(all.out[0]).toBe(`session ${session} (alive: pid ${live.report.pid} is running)`);
    expect(all.out.at(-1)).toBe("Would remove 1 container and 1 network of 1 session; run without --dry-run to remove them.");
    for (const id of live.report.containers) expect(exists("container", id)).toBe(true);
  });
});

describe("the installed binary", () => {
  it("starts with a node shebang (npm makes it executable on install) and exits as the in-process CLI does", () => {
    const bin = `${ROOT}dist/cli/main.js`;
    expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout.split("\n")[0]).toBe("Usage: throwaway <command> [options]");
    const wrong = spawnSync(process.execPath, [bin, "prune", "--bogus"], { encoding: "utf8" });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toBe("throwaway prune: unknown option --bogus. Run `throwaway prune --help` for usage.\n");
    const ps = spawnSync(process.execPath, [bin, "ps", "--session", `none-${randomBytes(4).toString("hex")}`], { encoding: "utf8" });
    expect(ps.status).toBe(0);
    expect(ps.stdout).toMatch(/^No resources of session none-[0-9a-f]{8} on unix:\/\/\/var\/run\/docker\.sock\.\n$/);
  });
});
