import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Engine, EngineTlsError, getEngine, setEngine } from "throwaway";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { engineCandidates, realDiscoveryEnvironment } from "../../src/engine/discovery.js";
import { HttpTransport } from "../../src/engine/transport.js";

/**
 * A stand-in TLS engine on 127.0.0.1: one TCP port that hands TLS handshakes to an https server and records any
 * plaintext that arrives (answering it as an engine would, so a client that fell back to plain HTTP would "work").
 */
let dir: string;
let front: NetServer;
let engine: HttpsServer;
let port: number;
const plaintext: string[] = [];
const tlsRequests: string[] = [];

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-tls-"));
  // A CA, and a server certificate it signs for 127.0.0.1, as `dockerd --tlsverify` setups have them.
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=throwaway test CA",
  );
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  await writeFile(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-out",
    "server-cert.pem",
    "-days",
    "1",
    "-extfile",
    "san.ext",
  );
  engine = createHttpsServer(
    { key: await readFile(join(dir, "server-key.pem")), cert: await readFile(join(dir, "server-cert.pem")) },
    (req, res) => {
      tlsRequests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Type": "text/plain", "Api-Version": "1.41" }).end("OK");
    },
  );
  engine.on("upgrade", (req, socket: Duplex) => {
    tlsRequests.push(`${req.method} ${req.url}`);
    socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nexec output");
    socket.end();
  });
  front = createNetServer((socket: Socket) => {
    socket.on("error", () => {});
    socket.once("data", (first: Buffer) => {
      if (first[0] === 0x16) {
        // Paused, so the unread handshake waits for the TLS layer instead of flowing past it.
        socket.pause();
        socket.unshift(first);
        engine.emit("connection", socket);
        return;
      }
      plaintext.push(first.toString("latin1").split("\r\n")[0] ?? "");
      socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK");
    });
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  port = (front.address() as { port: number }).port;
});

afterAll(async () => {
  front?.close();
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  plaintext.length = 0;
  tlsRequests.length = 0;
});

/** The engine discovery would use for this environment (DOCKER_HOST and friends). */
function engineFor(env: Record<string, string>): Engine {
  const [endpoint] = engineCandidates({ ...realDiscoveryEnvironment(), env });
  return new Engine(endpoint!);
}

describe("TLS engines", () => {
  it("speaks TLS to DOCKER_HOST=https://, verifying the server with the CA in DOCKER_CERT_PATH", async () => {
    const client = engineFor({ DOCKER_HOST: `https://127.0.0.1:${port}`, DOCKER_CERT_PATH: dir });
    try {
      await client.ping();
      expect(tlsRequests).toEqual(["GET /_ping"]);
      expect(plaintext).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("fails DOCKER_HOST=https:// whose server it cannot verify, and never falls back to plain HTTP", async () => {
    // No cert folder: the server is checked against the system's CAs, which do not know this one.
    const client = engineFor({ DOCKER_HOST: `https://127.0.0.1:${port}` });
    try {
      const error = await client.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineTlsError);
      expect(error).toMatchObject({ code: "THROWAWAY_ENGINE_TLS", endpoint: `tcp://127.0.0.1:${port}`, call: "GET /_ping" });
      expect((error as EngineTlsError).reason).toMatch(/CERT|SIGNATURE|ISSUER/);
      expect((error as EngineTlsError).message).toContain("did not verify: put the CA that signed it in DOCKER_CERT_PATH");
      expect(plaintext).toEqual([]);
      expect(tlsRequests).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("stops discovery at a DOCKER_HOST whose TLS fails, instead of quietly using another engine", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `https://127.0.0.1:${port}`;
    setEngine(undefined);
    try {
      // The local socket would answer; the engine the user named must not be swapped for it.
      await expect(getEngine()).rejects.toBeInstanceOf(EngineTlsError);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
      setEngine(undefined);
    }
  });

  it("names a port that does not speak TLS", async () => {
    const plain = createNetServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const client = engineFor({ DOCKER_HOST: `https://127.0.0.1:${(plain.address() as { port: number }).port}` });
    try {
      const error = await client.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineTlsError);
      expect((error as EngineTlsError).message).toContain("does not speak TLS on this port");
    } finally {
      client.close();
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it("uses TLS for tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI does", async () => {
    const client = engineFor({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: dir });
    try {
      await client.ping();
      expect(tlsRequests).toEqual(["GET /_ping"]);
      expect(plaintext).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("uses TLS without verifying the server for tcp:// with DOCKER_TLS, as the docker CLI does", async () => {
    const client = engineFor({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS: "1" });
    try {
      await client.ping();
      expect(tlsRequests).toEqual(["GET /_ping"]);
      expect(plaintext).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("verifies upgraded connections (exec, attach) with the same CA", async () => {
    const [endpoint] = engineCandidates({
      ...realDiscoveryEnvironment(),
      env: { DOCKER_HOST: `https://127.0.0.1:${port}`, DOCKER_CERT_PATH: dir },
    });
    const transport = new HttpTransport(endpoint!, { tls: { ca: await readFile(join(dir, "ca.pem")), verify: true } });
    try {
      const socket = await transport.request<Duplex>({
        method: "POST",
        path: "/exec/x/start",
        body: {},
        statusCodes: { 101: true, 200: true },
        isStream: true,
        hijack: true,
      });
      let text = "";
      for await (const chunk of socket) text += chunk;
      expect(text).toBe("exec output");
      expect(plaintext).toEqual([]);
    } finally {
      transport.close();
    }
  });
});
