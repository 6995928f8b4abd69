import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { procNetTcp } from "../../test/wait/fake-target.js";
import { listeningPortsFromProcNet, readListeningPorts, readProcFile, readSocketCounts } from "./proc-net.js";

describe("listeningPortsFromProcNet", () => {
  it("reads LISTEN sockets from tcp and tcp6, ignoring other states", () => {
    const tcp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
      "   0: 00000000000000000000000000000000:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n";
    expect([...listeningPortsFromProcNet(procNetTcp(22), tcp6)].sort((a, b) => a - b)).toEqual([22, 3306]);
    expect(listeningPortsFromProcNet(procNetTcp()).size).toBe(0); // the established 8080 connection does not count
  });
});

describe("readProcFile", () => {
  it("reads a file longer than one kernel page to its end", async () => {
    const dir = await mkdtemp(join(tmpdir(), "throwaway-proc-"));
    try {
      const text = procNetTcp(...Array.from({ length: 100 }, (_, i) => 1000 + i));
      expect(text.length).toBeGreaterThan(8192);
      await writeFile(join(dir, "tcp"), text);
      expect(await readProcFile(join(dir, "tcp"))).toBe(text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers undefined for a file that does not exist", async () => {
    expect(await readProcFile("/proc/0/net/tcp")).toBeUndefined();
  });
});

describe("readListeningPorts", () => {
  it("sees a port this process listens on, IPv4 and IPv6", async () => {
    const v4 = createServer();
    const v6 = createServer();
    await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => v6.listen(0, "::", resolve));
    try {
      const port4 = (v4.address() as { port: number }).port;
      const port6 = (v6.address() as { port: number }).port;
      const ports = await readListeningPorts(process.pid);
      expect(ports?.has(port4)).toBe(true);
      expect(ports?.has(port6)).toBe(true);
    } finally {
      await new Promise((resolve) => v4.close(resolve));
      await new Promise((resolve) => v6.close(resolve));
    }
  });

  it("answers undefined for a process that does not exist", async () => {
    expect(await readListeningPorts(2 ** 22 + 1)).toBeUndefined();
  });

  it("reuses its answer only while the socket counts stay the same", async () => {
    const counts = await readSocketCounts(process.pid);
    expect(counts).toMatch(/^\d+\/(\d+|-)$/);
    const before = await readListeningPorts(process.pid);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      expect(await readSocketCounts(process.pid)).not.toBe(counts);
      const port = (server.address() as { port: number }).port;
      expect(before?.has(port)).toBe(false);
      expect((await readListeningPorts(process.pid))?.has(port)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
