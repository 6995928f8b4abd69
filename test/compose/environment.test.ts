import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEngine, LABELS } from "throwaway";
import { ComposeServiceError, DockerComposeEnvironment } from "throwaway/compose";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
const projects: string[] = [];

function project(compose: string): { dir: string; name: string } {
  const dir = mkdtempSync(join(tmpdir(), "throwaway-compose-"));
  dirs.push(dir);
  writeFileSync(join(dir, "docker-compose.yml"), compose);
  const name = `tw-compose-${randomBytes(4).toString("hex")}`;
  projects.push(name);
  return { dir, name };
}

/** What the engine still has of a project, by Compose's project label. */
async function leftovers(name: string): Promise<string[]> {
  const engine = await getEngine();
  const filters = { label: [`com.docker.compose.project=${name}`] };
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers(filters, true),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const name of projects) expect(await leftovers(name)).toEqual([]);
});

const STACK = `services:
  db:
    image: busybox
    command: ["sh", "-c", "mkdir /www && echo db-page > /www/index.html && sleep 1 && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 50
  migrate:
    image: busybox
    # Works only once db serves, which it does from when its health check passes (a second after start).
    command: wget -q -O- http://db/
    depends_on:
      db:
        condition: service_healthy
  web:
    image: busybox
    command: ["sh", "-c", "mkdir /www && echo web-page > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    scale: 2
    labels:
      team: shop
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_started
  debug:
    image: busybox
    profiles: [debug]
    command: sleep 60
`;

describe("DockerComposeEnvironment", () => {
  it("starts services in depends_on order with each condition, scales, names and labels them as Compose does", async () => {
    const { dir, name } = project(STACK);
    await using env = await new DockerComposeEnvironment(dir, "docker-compose.yml").withProjectName(name).up();
    expect(env.getContainerNames()).toEqual(["db-1", "migrate-1", "web-1", "web-2"]);
    const migrate = env.getContainer("migrate").getInspectResult();
    const web1 = env.getContainer("web-1");
    const web2 = env.getContainer(`${name}-web-2`);
    expect(web1.getName()).toBe(`${name}-web-1`);
    expect(web2.getName()).toBe(`${name}-web-2`);
    // service_healthy: migrate reached db (it would have run during db's first second, and failed, otherwise).
    const migrateInspect = await (await getEngine()).inspectContainer(migrate.Id);
    const migrateLogs: string[] = [];
    for await (const line of await env.getContainer("migrate-1").logs()) migrateLogs.push(String(line));
    expect(migrateLogs).toEqual(["db-page"]);
    // service_completed_successfully: web started after migrate exited 0.
    expect(migrateInspect.State.ExitCode).toBe(0);
    for (const web of [web1, web2]) {
      const started = (await (await getEngine()).inspectContainer(web.getId())).State.StartedAt;
      expect(Date.parse(started)).toBeGreaterThanOrEqual(Date.parse(migrateInspect.State.FinishedAt));
    }
    expect(web1.getLabels()).toMatchObject({
      "com.docker.compose.project": name,
      "com.docker.compose.service": "web",
      "com.docker.compose.container-number": "1",
      "com.docker.compose.oneoff": "False",
      "com.docker.compose.project.working_dir": dir,
      team: "shop",
      [LABELS.session]: expect.any(String),
    });
    expect(web1.getLabels()["com.docker.compose.config-hash"]).toMatch(/^[0-9a-f]{64}$/);
    const page = await fetch(`http://${web2.getHost()}:${web2.getMappedPort(8080)}/`);
    expect(await page.text()).toBe("web-page\n");
    // The default network: services reach each other by service name.
    const fromWeb = await web1.exec(["wget", "-q", "-O-", "http://db/"]);
    expect(fromWeb.stdout).toBe("db-page\n");
    expect(web1.getNetworkNames()).toEqual([`${name}_default`]);
    expect(() => env.getContainer("debug-1")).toThrow(/db-1, migrate-1, web-1, web-2/);
  });

  it("starts a profile's services only when the profile is on", async () => {
    const { dir, name } = project(STACK.replace(/ {2}web:[\s\S]*?(?= {2}debug:)/, ""));
    await using env = await new DockerComposeEnvironment(dir, "docker-compose.yml")
      .withProjectName(name)
      .withProfiles("debug")
      .up(["debug"]);
    expect(env.getContainerNames()).toEqual(["debug-1"]);
    expect(env.getContainer("debug").getLabels()["com.docker.compose.service"]).toBe("debug");
  });

  it("a failing service fails up() with its name, exit code and last log lines, and removes what started", async () => {
    const { dir, name } = project(`services:
  cache:
    image: busybox
    command: sleep 600
  job:
    image: busybox
    command: ["sh", "-c", "echo cannot reach the database >&2; exit 3"]
  app:
    image: busybox
    command: sleep 600
    depends_on:
      cache:
        condition: service_started
      job:
        condition: service_completed_successfully
`);
    const error = await new DockerComposeEnvironment(dir, "docker-compose.yml")
      .withProjectName(name)
      .up()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeServiceError);
    const e = error as ComposeServiceError;
    expect([e.service, e.container, e.exitCode]).toEqual(["job", "job-1", 3]);
    expect(e.shortMessage).toContain(`Service job (${name}-job-1) failed to start (exit code 3)`);
    expect(e.message).toContain("cannot reach the database");
    expect(await leftovers(name)).toEqual([]);
  });

  it("keeps named volumes over stop() and removes them with down()", async () => {
    const { dir, name } = project(`services:
  store:
    image: busybox
    command: sleep 600
    volumes:
      - data:/data
      - /scratch
volumes:
  data:
    labels:
      purpose: test
`);
    const compose = new DockerComposeEnvironment(dir, "docker-compose.yml").withProjectName(name);
    const first = await compose.up();
    await first.getContainer("store-1").exec(["sh", "-c", "echo kept > /data/file"]);
    await first.stop();
    const engine = await getEngine();
    const volumes = await engine.listVolumes({ label: [`com.docker.compose.project=${name}`] });
    expect(volumes.map((v) => [v.Name, v.Labels?.purpose, v.Labels?.[LABELS.session]])).toEqual([
      [`${name}_data`, "test", expect.any(String)],
    ]);
    const second = await compose.up();
    expect((await second.getContainer("store-1").exec(["cat", "/data/file"])).stdout).toBe("kept\n");
    await second.down();
    expect(await leftovers(name)).toEqual([]);
  });
});
