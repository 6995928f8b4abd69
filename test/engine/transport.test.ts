import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeQuery, HttpTransport, type TransportError } from "../../src/engine/transport.js";

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

  it("rejects unexpected statuses with the engine's message, status and JSON", async () => {
    const error = (await transport
      .request({ method: "GET", path: "/missing", statusCodes: { ...ok, 404: "no such container" }, isStream: false, hijack: false })
      .catch((e: unknown) => e)) as TransportError;
    expect(error.message).toBe("(HTTP code 404) no such container - No such container: nope");
    expect(error.statusCode).toBe(404);
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
