import { type ClientRequest, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { Duplex, Readable } from "node:stream";
import type { EngineEndpoint } from "./discovery.js";
import type { RegistryAuth } from "./types.js";

// node:https (and TLS) loads only for TLS engines: about 1 MiB that local-socket users never need.
const requireBuiltin = createRequire(import.meta.url);
const loadHttps = () => requireBuiltin("node:https") as typeof import("node:https");

/** One Engine API request, as `Engine` describes it. */
export interface TransportRequest {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  /** Sent as JSON. */
  body?: unknown;
  /** Streamed as the body (a tar for builds and copies). */
  file?: Readable;
  /** Status codes that mean success; others reject with the engine's message. */
  statusCodes: Record<number, boolean | string>;
  /** Resolve with the response stream instead of its parsed body. */
  isStream: boolean;
  /** Ask the engine to upgrade the connection (exec, attach) and resolve with the raw socket. */
  hijack: boolean;
  signal?: AbortSignal;
  /** Use a new connection, not a kept-alive one: an engine that is shutting down still serves open connections. */
  fresh?: boolean;
  authconfig?: RegistryAuth | { base64: string };
  registryconfig?: Record<string, RegistryAuth>;
  headers?: Record<string, string>;
}

/** A failed call, shaped as callers read it: `statusCode`, the engine's JSON in `json`, its text in the message. */
export interface TransportError extends Error {
  statusCode?: number;
  reason?: string;
  json?: unknown;
}

export interface Transport {
  request<T>(request: TransportRequest): Promise<T>;
}

/** `{ a: 1, filters: {...} }` → `a=1&filters=%7B...%7D`: objects go as JSON, as the Engine API expects. */
export function encodeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function base64Url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function failure(status: number, statusCodes: Record<number, boolean | string>, text: string): TransportError {
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  const reason = typeof statusCodes[status] === "string" ? (statusCodes[status] as string) : "unexpected";
  const message = (json as { message?: string } | null)?.message ?? text.trim();
  const error: TransportError = new Error(`(HTTP code ${status}) ${reason} - ${message}`);
  error.statusCode = status;
  error.reason = reason;
  error.json = json ?? text;
  return error;
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}

/**
 * A lean Engine API client on Node's own `http`/`https`, for unix sockets, named pipes and TCP (with TLS). It does
 * what throwaway needs of a transport (JSON calls, streams, upgrades for exec and attach, registry auth headers) and
 * no more: loading it costs a few milliseconds and a few MiB, where dockerode with its gRPC and SSH stacks costs
 * ~80 ms and ~28 MiB in every test process. Connections are kept alive and reused between calls.
 */
export class HttpTransport implements Transport {
  private readonly agent: HttpAgent;
  /** Same settings (TLS material included), no pool: each call on it opens a new connection. */
  private readonly freshAgent: HttpAgent;
  private readonly target: { socketPath?: string; host?: string; port?: number; https: boolean };

  constructor(endpoint: Exclude<EngineEndpoint, { kind: "ssh" }>, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean }) {
    let makeAgent: (keepAlive: boolean) => HttpAgent;
    if (endpoint.kind === "tcp") {
      const https = endpoint.tls !== undefined;
      this.target = { host: endpoint.host, port: endpoint.port, https };
      makeAgent = (keepAlive) =>
        https
          ? new (loadHttps().Agent)({
              keepAlive,
              ...(tls?.ca ? { ca: tls.ca } : {}),
              ...(tls?.cert ? { cert: tls.cert } : {}),
              ...(tls?.key ? { key: tls.key } : {}),
              rejectUnauthorized: tls?.verify ?? true,
            })
          : new HttpAgent({ keepAlive });
    } else {
      this.target = { socketPath: endpoint.socketPath, https: false };
      makeAgent = (keepAlive) => new HttpAgent({ keepAlive });
    }
    this.agent = makeAgent(true);
    this.freshAgent = makeAgent(false);
  }

  request<T>(call: TransportRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...call.headers };
      let payload: string | undefined;
      if (call.body !== undefined && !call.file) {
        payload = JSON.stringify(call.body);
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(payload);
      }
      if (call.file) {
        headers["Content-Type"] ??= "application/tar";
        headers["Transfer-Encoding"] = "chunked";
      }
      if (call.authconfig) {
        headers["X-Registry-Auth"] = "base64" in call.authconfig ? call.authconfig.base64 : base64Url(call.authconfig);
      }
      if (call.registryconfig) headers["X-Registry-Config"] = base64Url(call.registryconfig);
      if (call.hijack) {
        headers.Connection = "Upgrade";
        headers.Upgrade = "tcp";
      }
      const options = {
        method: call.method,
        path: `${call.path}${call.query ? encodeQuery(call.query) : ""}`,
        headers,
        // Upgraded and streamed connections are long-lived: keep them out of the pool.
        agent: call.hijack ? false : call.fresh ? this.freshAgent : this.agent,
        // Without the pool's agent an upgraded call must carry the TLS material itself, or the engine's cert fails.
        ...(call.hijack && this.target.https ? tlsOf(this.agent) : {}),
        ...(this.target.socketPath ? { socketPath: this.target.socketPath } : { host: this.target.host, port: this.target.port }),
        ...(call.signal ? { signal: call.signal } : {}),
      };
      let settled = false;
      const settle = (fn: () => void) => {
        if (!settled) {
          settled = true;
          fn();
        }
      };
      const req: ClientRequest = (this.target.https ? loadHttps().request : httpRequest)(options);
      if (call.hijack) {
        req.on("upgrade", (_res: IncomingMessage, socket: Duplex, head: Buffer) => {
          if (head.length > 0) socket.unshift(head);
          settle(() => resolve(socket as unknown as T));
        });
      }
      req.on("response", (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (call.statusCodes[status] !== true) {
          readAll(res).then(
            (text) => settle(() => reject(failure(status, call.statusCodes, text))),
            (error: unknown) => settle(() => reject(error)),
          );
          return;
        }
        if (call.isStream) {
          settle(() => resolve(res as unknown as T));
          return;
        }
        readAll(res).then(
          (text) => {
            let parsed: unknown = text;
            if (text && (res.headers["content-type"] ?? "").includes("json")) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            settle(() => resolve((text ? parsed : null) as T));
          },
          (error: unknown) => settle(() => reject(error)),
        );
      });
      req.on("error", (error) => settle(() => reject(error)));
      if (call.file) {
        call.file.on("error", (error) => req.destroy(error));
        call.file.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  /** Closes idle kept-alive connections (open ones close when their calls end). */
  close(): void {
    this.agent.destroy();
  }
}

/** The TLS settings an https agent was made with, for a request that goes without the agent. */
function tlsOf(agent: HttpAgent): Record<string, unknown> {
  const { ca, cert, key, rejectUnauthorized } = (agent as unknown as { options: Record<string, unknown> }).options;
  return { ca, cert, key, rejectUnauthorized };
}
