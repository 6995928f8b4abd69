// `throwaway up` on the users-service example's own fixture file (network + MySQL + the service built from its
// Dockerfile), as a developer runs it: the connection info it prints must work, Ctrl-C must leave nothing, and a
// kept environment must come back as the same containers.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BIN,
  containersByFixture,
  idsWithLabel,
  removeProject,
  requireBuild,
  runCli,
  runInTerminal,
  startCli,
  unique,
} from "../support/cli-up/cli-child.js";

const EXAMPLE = "examples/users-service/throwaway.fixtures.ts";
const NOTHING = { containers: [], networks: [] };
const projects: string[] = [];

/** Images `up --keep` keeps (the service's build, as the next run's cache): the ones this file made go after it. */
function keptImages(): string[] {
  return execFileSync("docker", ["images", "-q", "--no-trunc", "--filter", "label=dev.throwaway.keep=true"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}
let imagesBefore: string[] = [];

beforeAll(() => {
  requireBuild();
  imagesBefore = keptImages();
});

afterAll(() => {
  const left = projects.filter((name) => idsWithLabel(`dev.throwaway.project=${name}`).containers.length > 0);
  for (const name of projects) removeProject(name);
  const made = keptImages().filter((id) => !imagesBefore.includes(id));
  if (made.length > 0) execFileSync("docker", ["rmi", "-f", ...made], { stdio: "ignore" });
  expect(left).toEqual([]);
});

describe("throwaway up examples/users-service/throwaway.fixtures.ts", () => {
  it("prints a MySQL URI that answers queries and the service's URL, streams the service's request log; Ctrl-C removes it all", async () => {
    const project = unique("cli-up-users");
    projects.push(project);
    const session = unique("cli-up-users");
    const envFile = join(tmpdir(), `${project}.env`);
    const up = startCli(["up", EXAMPLE, "-p", project, "--write-env", envFile], { session });
    await up.waitFor(/^Streaming logs\. Ctrl-C stops and removes everything\.$/m, "stderr");

    const uri = up.stdout().match(/^mysql +mysql:5\.7, container [0-9a-f]{12}\n(?: {2}.*\n)*? {2}uri +(mysql:\/\/\S+)$/m)?.[1];
    expect(uri).toMatch(/^mysql:\/\/root@127\.0\.0\.1:\d+\/users_service$/);
    const connection = await mysql.createConnection(uri!);
    try {
      const [rows] = await connection.query("SELECT DATABASE() AS db, 6 * 7 AS answer");
      expect(rows).toEqual([{ db: "users_service", answer: 42 }]);
    } finally {
      await connection.end();
    }

    const url = up.stdout().match(/^ {2}url +(http:\/\/127\.0\.0\.1:\d+)$/m)?.[1];
    expect(url).toBeDefined();
    expect(await (await fetch(`${url}/welcome`)).text()).toBe("Welcome to the Simple E-commerce.");
    // The service logs each request: it shows up behind its fixture name.
    await up.waitFor(/^usersService \| .*GET \/welcome 200/m, "stdout");

    const env = readFileSync(envFile, "utf8");
    expect(env).toContain(`\nMYSQL_URI=${uri}\n`);
    expect(env).toContain("\nMYSQL_USER=root\nMYSQL_PASSWORD=\nMYSQL_DATABASE=users_service\n");
    expect(env).toContain(`\nUSERS_SERVICE_URL=${url}\n`);

    up.process.kill("SIGINT");
    expect(await up.ended, up.stderr()).toEqual({ code: 130, signal: null });
    expect(idsWithLabel(`dev.throwaway.session-id=${session}`)).toEqual(NOTHING);
    expect(idsWithLabel(`dev.throwaway.project=${project}`)).toEqual(NOTHING);
  });

  it("--keep: a second up reuses the same containers, exec reaches MySQL in a terminal, down removes them", async () => {
    const project = unique("cli-up-users-keep");
    projects.push(project);
    const args = ["up", EXAMPLE, "--project", project, "--keep", "--detach"];

    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const ids = containersByFixture(project);
    expect(Object.keys(ids).sort()).toEqual(["mysql", "usersService"]);

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(containersByFixture(project)).toEqual(ids);
    const progress = second.stderr.split("\n");
    expect(progress.some((line) => line.startsWith(`  mysql         reused container ${ids.mysql!.slice(0, 12)}, ready in `))).toBe(true);
    expect(progress.some((line) => line.startsWith(`  usersService  reused container ${ids.usersService!.slice(0, 12)}, ready in `))).toBe(
      true,
    );
    expect(second.stdout).toBe(first.stdout);

    const query = await runInTerminal(`node ${BIN} exec --project ${project} mysql -- mysql -uroot -B -N -e "SELECT 6 * 7" users_service`);
    expect(query).toEqual({ code: 0, output: "42\r\n" });

    const down = await runCli(["down", "--project", project]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout.split("\n").at(-2)).toBe(`Removed project ${project}: 2 containers, 1 network.`);
    expect(idsWithLabel(`dev.throwaway.project=${project}`)).toEqual(NOTHING);
  });
});
