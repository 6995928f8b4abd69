import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeQuery, HttpTransport } from "../../src/engine/transport.js";
import { EngineConnectionError, EngineHttpError, EngineTimeoutError } from "../../src/errors.js";

let dir: string;
let server: Server;
let transport: HttpTransport;
const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-transport-"));
  const socketPath = join(dir, "engine.sock");
  // A stand-in for the engine's socket, answering the shapes the Engine API uses.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/json")) {
        res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ Id: "abc", echo: body ? JSON.parse(body) : null }));
      } else if (req.url === "/missing") {
        res.writeHead(404, { "Content-Type": "application/json" }).end('{"message":"No such container: nope"}');
      } else if (req.url === "/stream") {
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        res.write("one\n");
        setTimeout(() => res.end("two\n"), 10);
      } else if (req.url === "/upload") {
        res.writeHead(200).end(String(body.length));
      } else {
        res.writeHead(204).end();
      }
    });
  });
  server.on("upgrade", (req, socket) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: "" });
    socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello from upgrade");
    socket.on("data", (d) => socket.end(`echo:${d}`));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  transport = new HttpTransport({ kind: "unix", source: "test", socketPath });
});

afterAll(async () => {
  transport.close();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const ok = { 200: true, 201: true, 204: true } as const;

describe("encodeQuery", () => {
  it("sends objects as JSON, repeats arrays and drops undefined", () => {
    expect(encodeQuery({ all: true, filters: { label: ["a=b"] }, tag: undefined, t: 0 })).toBe(
      "?all=true&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&t=0",
    );
    expect(encodeQuery({})).toBe("");
  });
});

describe("HttpTransport", () => {
  it("sends JSON bodies and query strings, and parses JSON answers", async () => {
    const answer = await transport.request<{ Id: string; echo: unknown }>({
      method: "POST",
      path: "/json/create",
      query: { name: "web" },
      body: { Image: "busybox" },
      statusCodes: ok,
      isStream: false,
      hijack: false,
    });
    expect(answer).toEqual({ Id: "abc", echo: { Image: "busybox" } });
    expect(seen.at(-1)).toMatchObject({ method: "POST", url: "/json/create?name=web" });
    expect(seen.at(-1)?.headers["content-type"]).toBe("application/json");
  });

  it("rejects unexpected statuses with a typed error: the status, the engine's own message and JSON", async () => {
    const error = (await transport
      .request({ method: "GET", path: "/missing", statusCodes: { ...ok, 404: "no such container" }, isStream: false, hijack: false })
      .catch((e: unknown) => e)) as EngineHttpError;
    expect(error).toBeInstanceOf(EngineHttpError);
    expect(error.code).toBe("THROWAWAY_ENGINE_HTTP");
    expect(error.status).toBe(404);
    expect(error.statusCode).toBe(404);
    expect(error.engineMessage).toBe("No such container: nope");
    expect(error.call).toBe("GET /missing");
    expect(error.message).toBe("GET /missing: the engine answered HTTP 404: No such container: nope");
    expect(error.json).toEqual({ message: "No such container: nope" });
  });

  it("streams responses, uploads streams, and sends registry auth as base64url JSON", async () => {
    const stream = await transport.request<Readable>({ method: "GET", path: "/stream", statusCodes: ok, isStream: true, hijack: false });
    let text = "";
    for await (const chunk of stream) text += chunk;
    expect(text).toBe("one\ntwo\n");
    const size = await transport.request<string>({
      method: "PUT",
      path: "/upload",
      file: Readable.from([Buffer.alloc(70_000, 1)]),
      statusCodes: ok,
      isStream: false,
      hijack: false,
      authconfig: { username: "u", password: "p>?" },
    });
    expect(size).toBe("70000");
    const header = String(seen.at(-1)?.headers["x-registry-auth"]);
    expect(JSON.parse(Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString())).toEqual({
      username: "u",
      password: "p>?",
    });
  });

  it("hands over the raw connection when the engine upgrades it (exec, attach)", async () => {
    const socket = await transport.request<import("node:stream").Duplex>({
      method: "POST",
      path: "/exec/x/start",
      body: { Detach: false },
      statusCodes: { 101: true, 200: true },
      isStream: true,
      hijack: true,
    });
    socket.write("ping");
    let text = "";
    for await (const chunk of socket) text += chunk;
    expect(text).toBe("hello from upgradeecho:ping");
    expect(seen.at(-1)?.headers.upgrade).toBe("tcp");
  });

  it("aborts a request when its signal fires", async () => {
    const controller = new AbortController();
    const pending = transport.request({
      method: "GET",
      path: "/stream",
      statusCodes: ok,
      isStream: false,
      hijack: false,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});

/** A stand-in engine socket that does what `behave` says with each connection (and never answers unless told). */
async function fakeEngine(behave: (socket: Socket) => void): Promise<{ socketPath: string; server: NetServer; close(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), "throwaway-fake-engine-"));
  const socketPath = join(folder, "engine.sock");
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    behave(socket);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    server,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(folder, { recursive: true, force: true });
    },
  };
}

const call = { method: "GET", path: "/containers/abc/json", statusCodes: ok, isStream: false, hijack: false } as const;

describe("HttpTransport when the engine fails", () => {
  it("fails a call the engine accepts but never answers with a typed timeout naming the call", async () => {
    const engine = await fakeEngine(() => {});
    const hung = new HttpTransport({ kind: "unix", source: "test", socketPath: engine.socketPath });
    try {
      const error = await hung.request({ ...call, timeoutMs: 50 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineTimeoutError);
      expect(error).toMatchObject({ code: "THROWAWAY_ENGINE_TIMEOUT", call: "GET /containers/abc/json", timeoutMs: 50 });
      expect((error as Error).message).toContain(`unix://${engine.socketPath} did not answer GET /containers/abc/json within 50 ms`);
    } finally {
      hung.close();
      await engine.close();
    }
  });

  it("puts no deadline on streams (logs, events, waits on a stream)", async () => {
    let answer: (() => void) | undefined;
    const engine = await fakeEngine((socket) => {
      answer = () => socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
    });
    const slow = new HttpTransport({ kind: "unix", source: "test", socketPath: engine.socketPath });
    try {
      const pending = slow.request<Readable>({ ...call, isStream: true, timeoutMs: 20 });
      // Answer only well after the deadline a non-streaming call would have had.
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer?.();
      let text = "";
      for await (const chunk of await pending) text += chunk;
      expect(text).toBe("ok");
    } finally {
      slow.close();
      await engine.close();
    }
  });

  it("fails a call in flight with one typed error when the engine drops the connection", async () => {
    const engine = await fakeEngine((socket) => socket.once("data", () => socket.destroy()));
    const dropping = new HttpTransport({ kind: "unix", source: "test", socketPath: engine.socketPath });
    try {
      const error = await dropping.request({ ...call, timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineConnectionError);
      expect(error).toMatchObject({
        code: "THROWAWAY_ENGINE_CONNECTION",
        endpoint: `unix://${engine.socketPath}`,
        call: "GET /containers/abc/json",
      });
      expect((error as Error).message).toContain("went away");
    } finally {
      dropping.close();
      await engine.close();
    }
  });

  it("fails with the same error when the engine's socket is gone", async () => {
    const gone = new HttpTransport({ kind: "unix", source: "test", socketPath: join(tmpdir(), "throwaway-no-such-engine.sock") });
    const error = await gone.request(call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineConnectionError);
    expect(error).toMatchObject({ reason: "ENOENT" });
    gone.close();
  });

  it("fails a stream cut off mid-way with the same error, not a bare `aborted`", async () => {
    const engine = await fakeEngine((socket) =>
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none\n\r\n");
        setTimeout(() => socket.destroy(), 20);
      }),
    );
    const cut = new HttpTransport({ kind: "unix", source: "test", socketPath: engine.socketPath });
    try {
      const stream = await cut.request<Readable>({ ...call, path: "/containers/abc/logs", isStream: true });
      let text = "";
      const error = await (async () => {
        for await (const chunk of stream) text += chunk;
      })().catch((e: unknown) => e);
      expect(text).toBe("one\n");
      expect(error).toBeInstanceOf(EngineConnectionError);
      expect(error).toMatchObject({ call: "GET /containers/abc/logs" });
    } finally {
      cut.close();
      await engine.close();
    }
  });

  it("fails an upgraded connection (exec, attach) the engine resets with the same error", async () => {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.once("data", () => {
        socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\npartial output");
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const reset = new HttpTransport({ kind: "tcp", source: "test", host: "127.0.0.1", port });
    try {
      const socket = await reset.request<Duplex>({ ...call, method: "POST", path: "/exec/x/start", isStream: true, hijack: true });
      let text = "";
      const error = await (async () => {
        for await (const chunk of socket) text += chunk;
      })().catch((e: unknown) => e);
      expect(text).toBe("partial output");
      expect(error).toBeInstanceOf(EngineConnectionError);
      expect(error).toMatchObject({ endpoint: `tcp://127.0.0.1:${port}`, call: "POST /exec/x/start", reason: "ECONNRESET" });
    } finally {
      reset.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
