import { rmSync } from "node:fs";
import { connect, createServer } from "node:net";

/**
 * A counting proxy for the Engine API: listens on a unix socket, forwards every byte unchanged to the engine's
 * socket, and reads the client-to-engine direction just enough to count HTTP requests. Every client (throwaway,
 * testcontainers, the docker CLI) can be pointed at it with `DOCKER_HOST=unix://<path>`, so all three are counted
 * the same way, by what actually crossed the socket, not by what a library says about itself.
 *
 * Only the request direction is parsed; responses (log streams, long polls) pass through untouched. A request that
 * upgrades the connection (`Upgrade:` header: exec start and attach hijack the socket) ends the parsing of that
 * connection: what follows is raw stream data, not requests.
 */

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Finds request boundaries in one connection's client-to-server bytes (HTTP/1.1: a head, then a body framed by
 * Content-Length or chunked encoding, possibly several requests per connection).
 */
export class RequestParser {
  /** @param {(request: { method: string, path: string, upgrade: boolean }) => void} onRequest */
  constructor(onRequest) {
    this.onRequest = onRequest;
    /** @type {"head" | "body" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "raw"} */
    this.state = "head";
    this.buffer = Buffer.alloc(0);
    this.remaining = 0;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    if (this.state === "raw") return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.state === "raw") {
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.state === "body" || this.state === "chunk-data") {
        const take = Math.min(this.remaining, this.buffer.length);
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
        this.state = this.state === "body" ? "head" : "chunk-end";
        continue;
      }
      const eol = this.buffer.indexOf(this.state === "head" ? "\r\n\r\n" : "\r\n");
      if (eol < 0) {
        if (this.buffer.length > MAX_HEAD_BYTES) this.state = "raw"; // not HTTP as we know it: stop counting here
        return;
      }
      if (this.state === "head") {
        const head = this.buffer.subarray(0, eol).toString("latin1");
        this.buffer = this.buffer.subarray(eol + 4);
        this.onHead(head);
      } else if (this.state === "chunk-size") {
        const size = Number.parseInt(this.buffer.subarray(0, eol).toString("latin1").split(";")[0].trim(), 16);
        this.buffer = this.buffer.subarray(eol + 2);
        if (!Number.isFinite(size) || size < 0) {
          this.state = "raw";
        } else if (size === 0) {
          this.state = "trailers";
        } else {
          this.remaining = size;
          this.state = "chunk-data";
        }
      } else if (this.state === "chunk-end") {
        this.buffer = this.buffer.subarray(eol + 2);
        this.state = "chunk-size";
      } else {
        // trailers: lines until an empty one ends the message
        const line = this.buffer.subarray(0, eol);
        this.buffer = this.buffer.subarray(eol + 2);
        if (line.length === 0) this.state = "head";
      }
    }
  }

  /** @param {string} head */
  onHead(head) {
    const lines = head.split("\r\n");
    // Stray CRLFs between requests are allowed by HTTP/1.1.
    while (lines.length > 0 && lines[0] === "") lines.shift();
    const [method = "?", path = "?"] = (lines[0] ?? "").split(" ");
    const headers = new Map();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const upgrade = headers.has("upgrade") || /\bupgrade\b/i.test(headers.get("connection") ?? "");
    this.onRequest({ method, path, upgrade });
    if (upgrade) {
      this.state = "raw";
    } else if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) {
      this.state = "chunk-size";
    } else {
      const length = Number(headers.get("content-length") ?? 0);
      this.remaining = Number.isFinite(length) && length > 0 ? length : 0;
      this.state = this.remaining > 0 ? "body" : "head";
    }
  }
}

/** Path segments right under a collection that name an operation, not an object. */
const COLLECTION_OPERATIONS = new Set(["create", "json", "prune", "search", "load", "get"]);

/**
 * `/v1.41/containers/4f1c.../start?x=1` -> `POST /containers/{id}/start`: ids and API versions vary, the kind of
 * call does not. `/containers/create` and `/containers/json` stay as they are.
 * @param {string} method
 * @param {string} path
 */
export function callKind(method, path) {
  const segments = path
    .split("?")[0]
    .replace(/^\/v\d+(\.\d+)?(?=\/)/, "")
    .split("/");
  const collection = segments[1];
  if (segments.length > 2 && !COLLECTION_OPERATIONS.has(segments[2])) {
    if (["containers", "exec", "networks", "volumes", "plugins", "secrets", "configs", "services", "tasks", "nodes"].includes(collection)) {
      segments[2] = "{id}";
    } else if (collection === "images") {
      // Image references contain slashes (`library/busybox:latest`): everything up to a known trailing action.
      const last = segments[segments.length - 1];
      const action = segments.length > 3 && ["json", "tag", "push", "history", "get"].includes(last) ? [last] : [];
      segments.splice(2, segments.length - 2, "{ref}", ...action);
    }
  }
  return `${method} ${segments.join("/")}`;
}

/**
 * Starts a counting proxy at `socketPath` in front of `upstreamPath`.
 * @param {string} socketPath
 * @param {string} upstreamPath
 */
export async function startCountingProxy(socketPath, upstreamPath) {
  /** @type {{ method: string, path: string, kind: string, at: number }[]} */
  const requests = [];
  const sockets = new Set();
  // Half-open on both legs: a client that hijacks the connection (docker exec, attach) shuts its write side when it
  // has no more input, and must still receive the output that follows.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ path: upstreamPath, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    const parser = new RequestParser(({ method, path }) => {
      requests.push({ method, path, kind: callKind(method, path), at: performance.now() });
    });
    client.on("data", (chunk) => parser.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  });
  rmSync(socketPath, { force: true });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve(undefined));
  });
  return {
    socketPath,
    /** Every request seen so far, oldest first. */
    requests,
    /** How many requests have crossed so far: take two marks and subtract. */
    mark: () => requests.length,
    /** The requests between two marks, as call kinds. */
    between: (from, to) => requests.slice(from, to).map((r) => r.kind),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      rmSync(socketPath, { force: true });
    },
  };
}
