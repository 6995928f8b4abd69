// `throwaway up`, `exec` and `down` on compose files, natively: the built binary as a child process, checked with
// the docker CLI (and Debian's docker-compose 1.29 when installed, which must see the project as its own).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleUsersService } from "../../examples/users-service/bundle.js";
import { type CliChild, requireBuild, runCli, startCli, unique } from "../support/cli-up/cli-child.js";

const dirs: string[] = [];
const projects: string[] = [];
/** `up` children a failed test may leave running: Ctrl-C'd in afterAll, so they clean up after themselves. */
const children: CliChild[] = [];

function startUp(args: string[]): CliChild {
  const child = startCli(args);
  children.push(child);
  return child;
}

/** What the engine has of a compose project, asked with the docker CLI. */
function leftovers(project: string): string[] {
  const list = (args: string[]) =>
    execFileSync(
      "docker",
      [...args, "--filter", `label=com.docker.compose.project=${project}`, "--format", args[0] === "ps" ? "{{.Names}}" : "{{.Name}}"],
      {
        encoding: "utf8",
      },
    )
      .split("\n")
      .filter(Boolean);
  return [
    ...list(["ps", "-a"]).map((n) => `container ${n}`),
    ...list(["network", "ls"]).map((n) => `network ${n}`),
    ...list(["volume", "ls"]).map((n) => `volume ${n}`),
  ];
}

function composeProject(prefix: string): { dir: string; name: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  dirs.push(dir);
  const name = unique(prefix);
  projects.push(name);
  const file = join(dir, "docker-compose.yml");
  writeFileSync(
    file,
    `name: ${name}
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir /www && echo from-compose > /www/index.html && echo web up && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    volumes: ["data:/data"]
    depends_on:
      seed:
        condition: service_completed_successfully
  seed:
    image: busybox
    command: echo seeded
volumes:
  data: {}
`,
  );
  return { dir, name, file };
}

function hasDockerCompose(): boolean {
  try {
    execFileSync("docker-compose", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => requireBuild());

afterAll(async () => {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGINT");
      await child.ended;
    }
  }
  const left = projects.flatMap(leftovers);
  for (const name of projects) {
    const ids = (args: string[]) =>
      execFileSync("docker", [...args, "-q", "--filter", `label=com.docker.compose.project=${name}`], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    const containers = ids(["ps", "-a"]);
    if (containers.length > 0) execFileSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore" });
    const networks = ids(["network", "ls"]);
    if (networks.length > 0) execFileSync("docker", ["network", "rm", ...networks], { stdio: "ignore" });
    const volumes = ids(["volume", "ls"]);
    if (volumes.length > 0) execFileSync("docker", ["volume", "rm", "-f", ...volumes], { stdio: "ignore" });
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe("throwaway up -f docker-compose.yml", () => {
  it("starts the services in order, prints how to reach them, exec reaches a service, Ctrl-C removes everything", async () => {
    const { dir, name, file } = composeProject("cli-compose");
    const up = startUp(["up", "-f", file]);
    await up.waitFor(/Streaming logs\. Ctrl-C stops and removes everything\./, "stderr");
    await up.waitFor(/^ {2}port 8080 +\d+$/m, "stdout");
    expect(up.stderr()).toContain(`Starting 3 fixtures of ${file} (project ${name})`);
    const port = Number(
      up.stdout().match(/^web-1 +busybox:latest, container [0-9a-f]{12}\n {2}host +127\.0\.0\.1\n {2}port 8080 +(\d+)$/m)?.[1],
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("from-compose\n");
    const names = execFileSync("docker", ["ps", "-a", "--filter", `label=com.docker.compose.project=${name}`, "--format", "{{.Names}}"], {
      encoding: "utf8",
    });
    expect(names.split("\n").filter(Boolean).sort()).toEqual([`${name}-seed-1`, `${name}-web-1`]);

    const exec = await runCli(["exec", "-T", "-f", file, "web", "--", "cat", "/www/index.html"]);
    expect([exec.code, exec.stdout]).toEqual([0, "from-compose\n"]);

    if (hasDockerCompose()) {
      // docker-compose 1.29 predates `name:`: it reads a copy without it and finds the containers by their labels.
      const legacy = join(dir, "legacy.yml");
      writeFileSync(legacy, "services:\n  web:\n    image: busybox\n  seed:\n    image: busybox\n");
      const ps = execFileSync("docker-compose", ["-p", name, "-f", legacy, "ps"], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      expect(ps).toMatch(new RegExp(`^${name}-web-1 .* Up .*8080/tcp`, "m"));
      expect(ps).toMatch(new RegExp(`^${name}-seed-1 .* Exit 0`, "m"));
    } else console.log("docker-compose is not installed: skipped `docker-compose ps` seeing the project");

    up.process.kill("SIGINT");
    expect(await up.ended, up.stderr()).toEqual({ code: 130, signal: null });
    expect(leftovers(name)).toEqual([]);
  });

  it("finds the compose file in the working directory as Compose does; --detach leaves it running, a second one reuses it, down removes it all", async () => {
    const { dir, name } = composeProject("cli-compose-cwd");
    const up = await runCli(["up", "--detach"], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain(`Starting 3 fixtures of docker-compose.yml (project ${name}, kept)`);
    expect(leftovers(name).sort()).toEqual([
      `container ${name}-seed-1`,
      `container ${name}-web-1`,
      `network ${name}_default`,
      `volume ${name}_data`,
    ]);
    // Kept: a second `up` finds the same containers (their reuse hash holds no session or pid labels).
    const again = await runCli(["up", "--detach"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^ {2}web-1 +reused container [0-9a-f]{12}/m);
    expect(leftovers(name)).toHaveLength(4);
    const down = await runCli(["down"], { cwd: dir });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`Removed project ${name}: 2 containers, 1 network, 1 volume.`);
    expect(leftovers(name)).toEqual([]);
  });

  it("starts the users-service example's docker-compose.yml: MySQL, then the service built from its Dockerfile", async () => {
    await bundleUsersService();
    const name = unique("cli-compose-users");
    projects.push(name);
    const up = startUp(["up", "-f", "examples/users-service/docker-compose.yml", "--project", name, "--quiet"]);
    await up.waitFor(/^Running\. Ctrl-C stops and removes everything\.$/m, "stderr");
    await up.waitFor(/^users-service-1 .*\n {2}host +127\.0\.0\.1\n {2}port 8080 +\d+$/m, "stdout");
    const port = Number(up.stdout().match(/^users-service-1 .*\n {2}host +127\.0\.0\.1\n {2}port 8080 +(\d+)$/m)![1]);
    const welcome = await fetch(`http://127.0.0.1:${port}/welcome`);
    expect(await welcome.text()).toBe("Welcome to the Simple E-commerce.");
    up.process.kill("SIGINT");
    expect(await up.ended, up.stderr()).toEqual({ code: 130, signal: null });
    expect(leftovers(name)).toEqual([]);
  });
});
