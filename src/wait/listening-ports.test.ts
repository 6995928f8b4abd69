import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { execResult, FakeTarget, fakeContext, procNetTcp, waitOnFake } from "../../test/wait/fake-target.js";
import { InvalidOptionError, WaitTimeoutError } from "../errors.js";
import { ListeningPortsWaitStrategy } from "./listening-ports.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A local TCP server standing in for the mapped host port. `closeAtOnce` plays the engine's port proxy with nothing behind it. */
async function hostPort(behaviour: "listen" | "closeAtOnce" | "greet" = "listen"): Promise<number> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    if (behaviour === "closeAtOnce") socket.end();
    if (behaviour === "greet") socket.write("J\0\0\0\n5.7.44\0");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: bind one, then free it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runWithTimeout(target: FakeTarget, strategy: ListeningPortsWaitStrategy, timeoutMs: number) {
  return waitOnFake(strategy, target, timeoutMs);
}

describe("Wait.forListeningPorts", () => {
  it("describes itself", () => {
    expect(new ListeningPortsWaitStrategy().describe()).toBe("listening ports (all exposed)");
    expect(new ListeningPortsWaitStrategy([8080, 9090, 8080]).describe()).toBe("listening ports 8080/tcp, 9090/tcp");
  });

  it("rejects a port that is not a TCP port number", () => {
    expect(() => new ListeningPortsWaitStrategy([70000])).toThrow(
      "Expected `Wait.forListeningPorts(...ports)` to be container TCP ports 1-65535, got `70000` (number)",
    );
  });

  it("waits until the port is listened on inside the container, not just accepted by the proxy", async () => {
    let calls = 0;
    const target = new FakeTarget({
      ports: { 8080: await hostPort() },
      listeningPorts: () => (++calls < 4 ? new Set([9999]) : new Set([8080])),
    });
    const { context, recorded } = fakeContext();
    await new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, context);
    expect(calls).toBe(4);
    expect(recorded.attempts).toBe(3); // the first look only picks the way of looking
    expect(target.calls.exec).toEqual([]);
  });

  it("locally, looks inside first and connects to the host port only once something listens there", async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.on("error", () => {});
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    let looks = 0;
    const target = new FakeTarget({
      ports: { 8080: (server.address() as { port: number }).port },
      listeningPorts: () => (++looks < 6 ? new Set() : new Set([8080])),
    });
    await new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, fakeContext().context);
    expect(looks).toBe(6);
    expect(connections).toBe(1);
  });

  it("remotely, does not exec while the port proxy still closes connections at once (the cheap gate)", async () => {
    const target = new FakeTarget({ ports: { 8080: await hostPort("closeAtOnce") }, exec: () => execResult(0, procNetTcp()) });
    const error = (await runWithTimeout(target, new ListeningPortsWaitStrategy([8080]), 200).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error.attempts).toBeGreaterThan(5);
    // A close that arrives late (a busy event loop) lets one probe through; the gate then waits longer.
    expect(target.calls.exec.length).toBeLessThan(3);
  });

  it("remotely, takes an accepted connection as proof once that port refused one: no port proxy sits in front, so no exec", async () => {
    const port = await closedPort();
    let probes = 0;
    const target = new FakeTarget({ ports: { 8080: port }, exec: () => execResult(0, procNetTcp()) });
    const listening = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (++probes < 3) return;
        clearInterval(timer);
        const server = createServer((socket) => socket.on("error", () => {}));
        servers.push(server);
        server.listen(port, "127.0.0.1", () => resolve());
      }, 5);
    });
    await runWithTimeout(target, new ListeningPortsWaitStrategy([8080]), 3000);
    await listening;
    expect(target.calls.exec).toEqual([]);
  });

  it("remotely, takes a greeting (MySQL speaks first) through the proxy as proof, without an exec", async () => {
    const target = new FakeTarget({ ports: { 3306: await hostPort("greet") }, exec: () => execResult(0, procNetTcp()) });
    await new ListeningPortsWaitStrategy([3306]).waitUntilReady(target, fakeContext().context);
    expect(target.calls.exec).toEqual([]);
  });

  it("checks every exposed TCP port by default", async () => {
    // 80 listens from the start; the second exposed port, 443, only from the sixth look on: the wait must hold.
    let looks = 0;
    const target = new FakeTarget({
      ports: { 80: await hostPort(), 443: await hostPort() },
      listeningPorts: () => (++looks < 6 ? new Set([80]) : new Set([80, 443])),
    });
    await new ListeningPortsWaitStrategy().waitUntilReady(target, fakeContext().context);
    expect(looks).toBe(6);

    // And when it never listens, the timeout names it.
    const never = new FakeTarget({ ports: { 80: await hostPort(), 443: await hostPort() }, listeningPorts: () => new Set([80]) });
    const error = await runWithTimeout(never, new ListeningPortsWaitStrategy(), 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).lastError).toBe("nothing listens on 443/tcp inside the container yet");
  });

  it("resolves at once when nothing is exposed", async () => {
    const target = new FakeTarget();
    const { context, recorded } = fakeContext();
    await new ListeningPortsWaitStrategy().waitUntilReady(target, context);
    expect(recorded.attempts).toBe(0);
  });

  it("times out naming the port nothing listens on", async () => {
    const target = new FakeTarget({ ports: { 8080: await hostPort() }, listeningPorts: () => new Set() });
    const error = await runWithTimeout(target, new ListeningPortsWaitStrategy([8080]), 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).lastError).toBe("nothing listens on 8080/tcp inside the container yet");
    expect((error as WaitTimeoutError).shortMessage).toMatch(
      /^Timed out after \d+ ms waiting for listening ports 8080\/tcp on container 3f2a9c1b7d10, which is running: \d+ attempts, last error: nothing listens on 8080\/tcp inside the container yet$/,
    );
  });

  it("reports a host port that refuses connections", async () => {
    const target = new FakeTarget({ ports: { 8080: await closedPort() }, listeningPorts: () => new Set([8080]) });
    const error = (await runWithTimeout(target, new ListeningPortsWaitStrategy([8080]), 150).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error.lastError).toMatch(/^connect to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it("fails at once for a port that is not exposed, naming the fix", async () => {
    const target = new FakeTarget({ ports: { 8080: 1 }, listeningPorts: () => new Set([8080]) });
    const { context } = fakeContext();
    const error = await new ListeningPortsWaitStrategy([9090]).waitUntilReady(target, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe(
      "Expected `Wait.forListeningPorts(9090)` to be an exposed TCP port (exposed: 8080/tcp), got `9090` (number): add withExposedPorts(9090) to the container",
    );
  });

  it("looks inside with one `cat /proc/net/tcp*` exec per probe when the host cannot see the container", async () => {
    let execs = 0;
    const target = new FakeTarget({
      ports: { 8080: await hostPort() },
      exec: () => execResult(0, ++execs < 3 ? procNetTcp(22) : procNetTcp(22, 8080)),
    });
    const { context } = fakeContext();
    await new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, context);
    expect(target.calls.exec).toEqual([
      ["cat", "/proc/net/tcp", "/proc/net/tcp6"],
      ["cat", "/proc/net/tcp", "/proc/net/tcp6"],
      ["cat", "/proc/net/tcp", "/proc/net/tcp6"],
    ]);
  });

  it("uses what `cat` printed when /proc/net/tcp6 is missing (IPv6 off)", async () => {
    const target = new FakeTarget({
      ports: { 8080: await hostPort() },
      exec: () => ({ ...execResult(1, procNetTcp(8080), "cat: can't open '/proc/net/tcp6': No such file or directory\n") }),
    });
    const { context } = fakeContext();
    await new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, context);
    expect(target.calls.exec).toHaveLength(1);
  });

  it("on an image without `cat` (distroless) falls back to the host port after one exec instead of timing out", async () => {
    const target = new FakeTarget({
      ports: { 8080: await hostPort() },
      exec: () => execResult(126, 'OCI runtime exec failed: exec failed: exec: "cat": executable file not found in $PATH: unknown'),
    });
    const { context } = fakeContext({ timeoutMs: 60_000 });
    await new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, context);
    expect(target.calls.exec).toHaveLength(1);
  });

  it("does not take the port proxy's accept-then-close for a listening service, even without a view inside", async () => {
    const target = new FakeTarget({
      ports: { 8080: await hostPort("closeAtOnce") },
      exec: () => execResult(127, "exec: cat: not found"),
    });
    const error = (await runWithTimeout(target, new ListeningPortsWaitStrategy([8080]), 300).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.lastError).toMatch(
      /^connect to 127\.0\.0\.1:\d+ failed: the connection was accepted and closed at once: nothing listens behind the port proxy yet$/,
    );
    expect(target.calls.exec).toHaveLength(0); // the host-side gate rejects before anything runs inside
  });

  it("stops at once when aborted", async () => {
    const target = new FakeTarget({ ports: { 8080: await hostPort() }, listeningPorts: () => new Set() });
    const { context, abort } = fakeContext();
    const waiting = new ListeningPortsWaitStrategy([8080]).waitUntilReady(target, context);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const callsAtAbort = target.calls.listeningPorts;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.calls.listeningPorts).toBe(callsAtAbort);
  });
});
