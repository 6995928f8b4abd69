import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getEngine } from "throwaway";
import { DockerComposeEnvironment } from "throwaway/compose";
import { afterAll, describe, expect, it } from "vitest";
import { traits } from "./profile.js";

const dir = mkdtempSync(join(tmpdir(), "throwaway-engines-compose-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every depends_on condition, a health check (which throwaway runs itself where the engine does not), a published
// port, the project network's service names and a named volume, on whichever engine DOCKER_HOST names.
const STACK = `services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo db-page > /www/index.html && sleep 1 && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 50
  migrate:
    image: busybox:latest
    command: ["sh", "-c", "wget -q -O- http://db/ > /data/seed && cat /data/seed"]
    volumes: ["seed:/data"]
    depends_on:
      db:
        condition: service_healthy
  web:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && cp /data/seed /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    volumes: ["seed:/data:ro"]
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_started
volumes:
  seed: {}
`;

describe(`compose files on ${traits.description}`, () => {
  it("starts a project in depends_on order, serves its port at getHost(), and down() leaves nothing", async () => {
    writeFileSync(join(dir, "docker-compose.yml"), STACK);
    const project = `tw-engines-${randomBytes(4).toString("hex")}`;
    const env = await new DockerComposeEnvironment(dir, "docker-compose.yml").withProjectName(project).up();
    try {
      const web = env.getContainer("web-1");
      // db served migrate only once healthy; web serves what migrate wrote to the shared named volume.
      const page = await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`);
      expect(await page.text()).toBe("db-page\n");
      expect((await web.exec(["wget", "-q", "-O-", "http://db/"])).stdout).toBe("db-page\n");
    } finally {
      await env.down({ removeVolumes: true });
    }
    const engine = await getEngine();
    const filters = { label: [`com.docker.compose.project=${project}`] };
    const [containers, networks, volumes] = await Promise.all([
      engine.listContainers(filters, true),
      engine.listNetworks(filters),
      engine.listVolumes(filters),
    ]);
    expect([...containers.map((c) => c.Id), ...networks.map((n) => n.Name), ...volumes.map((v) => v.Name)]).toEqual([]);
  });
});
