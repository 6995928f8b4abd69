// Containers on any engine: start with published ports, exec, logs, copy in and out (through the API), restart,
// pull, health checks, and what a remote engine cannot do.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { EngineUnsupportedError, GenericContainer, getEngine, Wait } from "throwaway";
import { describe, expect, it } from "vitest";
import { BUSYBOX, skipOnThisEngine, traits, webCommand } from "./profile.js";

describe(`containers on ${traits.description}`, () => {
  it("publishes ports where this client reaches them: the engine's address for a remote engine", async () => {
    await using web = await new GenericContainer(BUSYBOX).withCommand(webCommand("hello")).withExposedPorts(8080).start();
    // The engine's own address, as DOCKER_HOST names it (THROWAWAY_HOST_OVERRIDE aside).
    if (traits.remote && !process.env.THROWAWAY_HOST_OVERRIDE) expect(web.getHost()).toBe(new URL(process.env.DOCKER_HOST!).hostname);
    const response = await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`);
    expect(await response.text()).toBe("hello\n");
  });

  it("on an engine on this machine, sees the port listen from the host (no exec): a start costs 4 Engine API calls", async (context) => {
    if (traits.remote) {
      return skipOnThisEngine(
        context,
        "its containers are not in this machine's /proc (the port wait gates on the published port instead)",
      );
    }
    const engine = await getEngine();
    const before = engine.apiCalls;
    await using web = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 0.3; exec httpd -f -p 8080"])
      .withExposedPorts(8080)
      .start();
    expect(engine.apiCalls - before).toBe(4);
    expect((await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`)).status).toBe(404);
  });

  it("execs, and reads logs", async () => {
    await using box = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo started; echo oops >&2; exec sleep 300"])
      .withWaitStrategy(Wait.forLogMessage("started"))
      .start();
    expect(await box.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
    const lines: string[] = [];
    for await (const line of await box.logs()) lines.push(String(line).trim());
    expect(lines).toEqual(expect.arrayContaining(["started", "oops"]));
  });

  it("copies files, folders and content in, and reads them back out (through the API)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "engines-copy-"));
    try {
      writeFileSync(join(dir, "a.txt"), "from a file\n");
      await using box = await new GenericContainer(BUSYBOX)
        .withCommand(["sleep", "300"])
        .withCopyFilesToContainer([{ source: join(dir, "a.txt"), target: "/data/a.txt" }])
        .withCopyContentToContainer([{ content: "from content\n", target: "/data/b.txt", mode: 0o600 }])
        .start();
      await box.copyToContainer([{ kind: "content", content: "copied later\n", target: "/data/c.txt" }]);
      expect((await box.exec(["sh", "-c", "cat /data/a.txt /data/b.txt /data/c.txt; stat -c %a /data/b.txt"])).stdout).toBe(
        "from a file\nfrom content\ncopied later\n600\n",
      );
      expect((await box.readFile("/data/c.txt")).toString()).toBe("copied later\n");
      expect(await text(await box.copyFromContainer("/data/a.txt"))).toContain("from a file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("restarts, re-reading the port binding and waiting again", async () => {
    await using web = await new GenericContainer(BUSYBOX).withCommand(webCommand("again")).withExposedPorts(8080).start();
    await web.restart();
    const response = await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`);
    expect(await response.text()).toBe("again\n");
  });

  it("pulls an image when asked to (pull policy always)", async () => {
    const { exitCode, stdout } = await new GenericContainer(BUSYBOX).withPullPolicy("always").withCommand(["echo", "pulled"]).run();
    expect({ exitCode, stdout }).toEqual({ exitCode: 0, stdout: "pulled\n" });
  });

  it("waits for a health check, whether or not the engine runs health checks itself", async () => {
    await using box = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 300"])
      .withHealthCheck({ test: ["CMD", "test", "-f", "/tmp/ready"], intervalMs: 200, timeoutMs: 2000, retries: 100 })
      .withStartupTimeout(30_000)
      .start();
    expect((await box.exec(["test", "-f", "/tmp/ready"])).exitCode).toBe(0);
  });

  it("fails an unhealthy check with the check's output, on every engine", async () => {
    const start = new GenericContainer(BUSYBOX)
      .withCommand(["sleep", "300"])
      .withHealthCheck({ test: "echo not yet; exit 1", intervalMs: 200, timeoutMs: 2000, retries: 2 })
      .withStartupTimeout(30_000)
      .start();
    await expect(start).rejects.toMatchObject({ code: "THROWAWAY_CONTAINER_NOT_READY", message: expect.stringContaining("not yet") });
  });

  it("bind-mounts a client folder on a local engine; a remote engine refuses it with a pointer to the copy API", async () => {
    const dir = mkdtempSync(join(tmpdir(), "engines-bind-"));
    try {
      writeFileSync(join(dir, "x.txt"), "bound\n", { mode: 0o644 });
      // A rootless engine reads the folder as its own, unprivileged user.
      chmodSync(dir, 0o755);
      const box = new GenericContainer(BUSYBOX)
        .withCommand(["cat", "/mnt/x.txt"])
        .withBindMounts([{ source: dir, target: "/mnt", mode: "ro" }]);
      if (!traits.remote) {
        expect(await box.run()).toMatchObject({ exitCode: 0, stdout: "bound\n" });
        return;
      }
      const error = await box.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EngineUnsupportedError);
      expect(error).toMatchObject({ feature: "bind mounts", message: expect.stringContaining("withCopyDirectoriesToContainer") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
