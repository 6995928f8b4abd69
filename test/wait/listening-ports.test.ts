import {
  ContainerExitedError,
  ContainerNotReadyError,
  type ExecResult,
  GenericContainer,
  getEngine,
  type StartedContainer,
  Wait,
  type WaitTarget,
  WaitTimeoutError,
} from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWait } from "../../src/wait/run.js";
import type { ExitInfo } from "../../src/wait/strategy.js";

const BUSYBOX = "busybox:latest";

/** Fails the test when the container with this id still exists: failed starts must remove their container. */
async function expectRemoved(id: string | undefined): Promise<void> {
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  const engine = await getEngine();
  const error = await engine.inspectContainer(id!).catch((e: unknown) => e);
  expect((error as { statusCode?: number }).statusCode).toBe(404);
}

describe("Wait.forListeningPorts against the engine", () => {
  it("resolves only once the service really listens (the port proxy accepts earlier)", async () => {
    await using c = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo hello > /tmp/index.html; sleep 0.5; exec httpd -f -p 8080 -h /tmp"])
      .withExposedPorts(8080)
      // Far above the second it needs, far below vitest's timeout: a wait that never ends fails with its own message.
      .withStartupTimeout(30_000)
      .start();
    // No retry here: if start() resolved before httpd listened, this first request fails.
    const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
    expect(await res.text()).toBe("hello\n");
  });

  it("fails a container that never becomes ready with a timeout that shows its logs, and removes it", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'loading 4 GB of fixtures'; echo 'still loading' >&2; sleep 600"])
      .withExposedPorts(8080)
      .withStartupTimeout(1500)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const e = error as WaitTimeoutError;
    expect(e.shortMessage).toMatch(
      /^Timed out after 15\d\d ms waiting for listening ports \(all exposed\) on container [0-9a-f]{12} \([a-z_]+, busybox:latest\), which is running: \d+ attempts, last error: nothing listens on 8080\/tcp inside the container yet$/,
    );
    expect(e.message).toContain("The container was removed; set THROWAWAY_KEEP_ON_FAILURE=true to keep it for debugging.");
    // stdout and stderr are separate streams: their relative order is not kept.
    expect(e.message).toMatch(
      /Last 50 log lines of the container:\n(loading 4 GB of fixtures\nstill loading|still loading\nloading 4 GB of fixtures)$/,
    );
    expect(e.lastError).toBe("nothing listens on 8080/tcp inside the container yet");
    await expectRemoved(e.containerId);
  });

  it("fails fast with the exit code and logs when the container crashes, long before the timeout", async () => {
    const error = await new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", "echo 'fatal: DATABASE_URL is not set' >&2; sleep 0.2; exit 3"])
      .withExposedPorts(8080)
      .withStartupTimeout(60_000)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    const e = error as ContainerExitedError;
    expect(e).toMatchObject({ exitCode: 3, oomKilled: false });
    expect(e.shortMessage).toMatch(
      /^Container [0-9a-f]{12} \([a-z_]+, busybox:latest\) exited with code 3 after \d+ ms while waiting for listening ports \(all exposed\)$/,
    );
    expect(e.message).toContain("Last 50 log lines of the container:\nfatal: DATABASE_URL is not set");
    await expectRemoved(e.containerId);
  });

  it("reports an OOM kill with the memory limit", async () => {
    const error = await new GenericContainer(BUSYBOX)
      // The shell keeps the whole 64 MiB command substitution in memory; the 16 MiB limit (no swap) kills it.
      .withCommand(["sh", "-c", "echo allocating; x=$(head -c 67108864 /dev/zero | tr '\\0' a); sleep 600"])
      .withResources({ memoryBytes: 16 * 1024 * 1024 })
      .withCreateOptions((body) => {
        (body.HostConfig as Record<string, unknown>).MemorySwap = 16 * 1024 * 1024;
      })
      .withExposedPorts(8080)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    const e = error as ContainerExitedError;
    expect(e.exitCode).toBe(137);
    // The engine flags most OOM kills; on cgroup v2 it sometimes misses one (about 1 in 10 here), and the message then
    // still names the likely cause from the exit code and the limit.
    expect(e.shortMessage).toMatch(
      e.oomKilled
        ? /^Container [0-9a-f]{12} \([a-z_]+, busybox:latest\) was OOM-killed \(exit code 137, memory limit 16 MiB\) after \d+ ms while waiting for listening ports \(all exposed\): give it more memory \(withResources\(\{ memoryBytes \}\)\)$/
        : /^Container [0-9a-f]{12} \([a-z_]+, busybox:latest\) exited with code 137 after \d+ ms while waiting for listening ports \(all exposed\): SIGKILL, most likely the OOM killer \(the engine did not flag it\) under the 16 MiB memory limit; give it more memory \(withResources\(\{ memoryBytes \}\)\)$/,
    );
    expect(e.message).toContain("\nallocating");
  });
});

describe("an image without a shell (distroless-like)", () => {
  let busyboxBinary: Buffer;
  let c: StartedContainer;

  beforeAll(async () => {
    // No exposed ports: the default wait has nothing to wait for.
    await using donor = await new GenericContainer(BUSYBOX).withCommand(["sleep", "600"]).start();
    busyboxBinary = await donor.readFile("/bin/busybox");
    // An empty tmpfs over /bin hides the shell and every applet; the one binary left lives at /opt/httpd.
    c = await new GenericContainer(BUSYBOX)
      .withCopyContentToContainer([
        { content: busyboxBinary, target: "/opt/httpd", mode: 0o755 },
        { content: "distroless\n", target: "/www/index.html" },
      ])
      .withTmpFs({ "/bin": "rw,size=1m" })
      .withEntrypoint(["/opt/httpd", "httpd", "-f", "-p", "8080", "-h", "/www"])
      .withExposedPorts(8080)
      .start();
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("really has no shell and no cat", async () => {
    const result = await c.exec(["cat", "/proc/net/tcp"]);
    expect([126, 127]).toContain(result.exitCode);
    expect(result.output).toMatch(/executable file not found/);
    const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`);
    expect(await res.text()).toBe("distroless\n");
  });

  it("the port wait falls back to the host port after one failed exec instead of waiting out the timeout", async () => {
    const execs: ExecResult[] = [];
    const real = c.waitTarget();
    // As seen through a remote engine: no view of the container's /proc from here, so the strategy must exec.
    const remoteView: WaitTarget = {
      ...real,
      listeningPorts: async () => undefined,
      exec: async (cmd, signal) => {
        const result = await real.exec(cmd, signal);
        execs.push(result);
        return result;
      },
    };
    await runWait({
      strategy: Wait.forListeningPorts(8080),
      target: remoteView,
      timeoutMs: 60_000,
      exited: new Promise<ExitInfo>(() => {}),
      context: { containerId: c.getId() },
      tailLogs: async () => "",
    });
    expect(execs).toHaveLength(1);
    expect([126, 127]).toContain(execs[0]?.exitCode);
  });

  it("a shell command wait fails at once, pointing at the array form", async () => {
    const error = await runWait({
      strategy: Wait.forSuccessfulCommand("true"),
      target: c.waitTarget(),
      timeoutMs: 60_000,
      exited: new Promise<ExitInfo>(() => {}),
      context: { containerId: c.getId() },
      tailLogs: async () => "",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect((error as ContainerNotReadyError).shortMessage).toMatch(
      /^Container [0-9a-f]{12} can never become ready for command true exits 0: the command cannot run in this container \(exit 12[67]: ".*"\): the image has no \/bin\/sh; pass the command as an array to run it without a shell$/,
    );
  });
});
