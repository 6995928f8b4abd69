import { ContainerExitedError, ContainerNotReadyError, GenericContainer, getEngine, Wait, WaitTimeoutError } from "throwaway";
import { describe, expect, it } from "vitest";

const BUSYBOX = "busybox:latest";
/**
 * The startup timeout of the waits expected to succeed: far above what they need (about a second), far below vitest's
 * 120 s, so a broken wait fails with its own timeout message naming what it waited for.
 */
const READY_MS = 30_000;

async function expectRemoved(id: string | undefined): Promise<void> {
  const error = await (await getEngine()).inspectContainer(id!).catch((e: unknown) => e);
  expect((error as { statusCode?: number }).statusCode).toBe(404);
}

describe("Wait.forLogMessage against the engine", () => {
  it("counts matches on stdout and stderr, including lines printed before the wait began", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      // The first line is printed before start() even begins to wait: it must count.
      .withCommand(["sh", "-c", "echo 'server ready'; sleep 0.3; echo 'server ready' >&2; sleep 600"])
      .withWaitStrategy(Wait.forLogMessage(/server ready/g, 2))
      .withStartupTimeout(READY_MS)
      .start();
    const lines: string[] = [];
    for await (const line of await c.logs()) lines.push(String(line));
    expect(lines.sort()).toEqual(["server ready", "server ready"]);

    // One match of two is not ready: the wait holds until its timeout and says how far it got.
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'server ready'; sleep 600"])
      .withWaitStrategy(Wait.forLogMessage(/server ready/g, 2))
      .withStartupTimeout(1500)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).lastError).toBe('matched 1 of 2 times, last line: "server ready"');
    await expectRemoved((error as WaitTimeoutError).containerId);
  });

  it("fails fast when the container exits before the message", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'bad flag --frobnicate'; exit 64"])
      .withWaitStrategy(Wait.forLogMessage("listening"))
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect((error as ContainerExitedError).shortMessage).toMatch(
      /exited with code 64 after \d+ ms while waiting for log message "listening"$/,
    );
    expect((error as ContainerExitedError).message).toContain("\nbad flag --frobnicate");
  });
});

describe("Wait.forHttp against the engine", () => {
  const site = [
    { content: "hello from busybox\n", target: "/www/index.html" },
    { content: "top secret\n", target: "/www/private/index.html" },
    // busybox httpd: requests under /private need admin:s3cret.
    { content: "/private:admin:s3cret\n", target: "/etc/httpd.conf" },
  ];

  it("waits for the status, the body and basic auth", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCopyContentToContainer(site)
      .withCommand(["sh", "-c", "sleep 0.3; exec httpd -f -p 8080 -h /www -c /etc/httpd.conf"])
      .withExposedPorts(8080)
      .withWaitStrategy(
        Wait.forAll([
          Wait.forHttp("/index.html", 8080).forResponsePredicate((body) => body.includes("hello")),
          Wait.forHttp("/private/index.html", 8080).withBasicCredentials("admin", "s3cret").forStatusCode(200),
          Wait.forHttp("/private/index.html", 8080).forStatusCode(401),
          Wait.forHttp("/index.html", 8080).withMethod("HEAD").withHeaders({ "X-Probe": "1" }),
        ]),
      )
      .start();
    const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
    expect(res.status).toBe(200);
  });

  it("times out naming the status it got", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCopyContentToContainer(site)
      .withCommand(["httpd", "-f", "-p", "8080", "-h", "/www", "-c", "/etc/httpd.conf"])
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp("/private/index.html", 8080).forStatusCode(200).withStartupTimeout(1000))
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const e = error as WaitTimeoutError;
    expect(e.strategy).toBe("http GET /private/index.html on 8080 -> 200");
    expect(e.lastError).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/private\/index\.html answered 401 Unauthorized/);
    await expectRemoved(e.containerId);
  });
});

describe("Wait.forHealthCheck against the engine", () => {
  it("waits for healthy by following the engine's events, not by polling", async () => {
    const engine = await getEngine();
    const before = engine.apiCalls;
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 1; touch /tmp/ready; sleep 600"])
      .withHealthCheck({ test: "test -f /tmp/ready", intervalMs: 100, retries: 100 })
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    // create, start, inspect, the exit long poll, the event stream and one inspect; polling a second would be 15+.
    expect(engine.apiCalls - before).toBeLessThanOrEqual(8);
    expect((await c.exec(["test", "-f", "/tmp/ready"])).exitCode).toBe(0);
  });

  it("fails at once when the check reports unhealthy, with the check's output", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sleep", "600"])
      .withHealthCheck({ test: "echo 'disk full' && exit 1", intervalMs: 100, retries: 2 })
      .withWaitStrategy(Wait.forHealthCheck())
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect((error as ContainerNotReadyError).shortMessage).toMatch(
      /^Container [0-9a-f]{12} \([a-z_]+, busybox:latest\) can never become ready for health check healthy: the health check reports unhealthy after \d+ failing checks; last check exited 1: "disk full"$/,
    );
    await expectRemoved((error as ContainerNotReadyError).containerId);
  });
});

describe("Wait.forSuccessfulCommand against the engine", () => {
  it("execs until the command exits 0", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 0.4; touch /tmp/migrated; sleep 600"])
      .withWaitStrategy(Wait.forSuccessfulCommand("test -f /tmp/migrated"))
      .withStartupTimeout(READY_MS)
      .start();
    expect((await c.exec(["ls", "/tmp"])).stdout).toBe("migrated\n");
  });

  it("runs an array without a shell", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 0.2; touch /tmp/ok; sleep 600"])
      .withWaitStrategy(Wait.forSuccessfulCommand(["test", "-f", "/tmp/ok"]))
      .withStartupTimeout(READY_MS)
      .start();
    expect((await c.exec(["ls", "/tmp"])).stdout).toBe("ok\n");
  });
});

describe("Wait.forOneShotStartup against the engine", () => {
  it("resolves when the container ran to exit code 0", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "sleep 0.2; echo 'applied 3 migrations'"])
      .withWaitStrategy(Wait.forOneShotStartup())
      .withStartupTimeout(READY_MS)
      .start();
    expect(c.getInspectResult().Id).toBe(c.getId());
    const lines: string[] = [];
    for await (const line of await c.logs()) lines.push(String(line));
    expect(lines).toEqual(["applied 3 migrations"]);
  });

  it("fails at once with the exit code and the logs on a non-zero exit", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'migration 4 failed: duplicate column'; exit 2"])
      .withWaitStrategy(Wait.forOneShotStartup())
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    const e = error as ContainerExitedError;
    expect(e.exitCode).toBe(2);
    expect(e.shortMessage).toMatch(/exited with code 2 after \d+ ms while waiting for one-shot run to exit code 0$/);
    expect(e.message).toContain("\nmigration 4 failed: duplicate column");
    await expectRemoved(e.containerId);
  });
});

describe("Wait.forAll and Wait.forAny against the engine", () => {
  it("forAll waits for the port and the log line together", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      // The log line comes first, the port 0.3 s later: a forAll that took the first ready part for all is early.
      .withCommand(["sh", "-c", "echo hello > /tmp/index.html; echo 'warm-up done'; sleep 0.3; httpd -p 8080 -h /tmp; sleep 600"])
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(8080), Wait.forLogMessage("warm-up done")]))
      .withStartupTimeout(READY_MS)
      .start();
    // No retry: if start() resolved before httpd listened, this first request fails.
    const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
    expect(await res.text()).toBe("hello\n");
  });

  it("forAll times out naming the part that was not ready", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "httpd -p 8080 -h /tmp; sleep 600"])
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(8080), Wait.forLogMessage("warm-up done")]).withStartupTimeout(800))
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).lastError).toBe('[log message "warm-up done"] matched 0 of 1 times, no output yet');
  });

  it("forAny resolves on the first ready strategy", async () => {
    // "ready (full)" never comes: a forAny that waited for both would time out.
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'ready (degraded)'; sleep 600"])
      .withWaitStrategy(Wait.forAny([Wait.forLogMessage("ready (full)"), Wait.forLogMessage("ready (degraded)")]))
      .withStartupTimeout(READY_MS)
      .start();
    const lines: string[] = [];
    for await (const line of await c.logs()) lines.push(String(line));
    expect(lines).toEqual(["ready (degraded)"]);
  });
});
