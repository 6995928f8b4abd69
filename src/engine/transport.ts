import { type ClientRequest, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import type { RequestOptions } from "node:https";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { EngineConnectionError, EngineHttpError, EngineTimeoutError, EngineTlsError, ThrowawayError } from "../errors.js";
import { type EngineEndpoint, endpointUrl } from "./discovery.js";
import { SshAgent, SshConnection } from "./ssh.js";
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
  /**
   * ms the engine has to answer, counted from when the request is sent in full, after which the call fails with an
   * {@link EngineTimeoutError}. Ignored for streams and upgrades, which live as long as their caller wants (and,
   * through a dockerode client, for uploads, whose end docker-modem does not report).
   */
  timeoutMs?: number;
}

/**
 * How `Engine` reaches the engine: {@link HttpTransport} for every endpoint throwaway finds, the dockerode transport
 * for a client passed in code. Both reject a status the call does not accept with an {@link EngineHttpError}
 * (`status`, the engine's own `engineMessage`), so callers branch on fields, never on message text.
 */
export interface Transport {
  request<T>(request: TransportRequest): Promise<T>;
  /** Closes idle connections the transport keeps; later requests open new ones. */
  close(): void;
}

/**
 * A transport that is still loading (a module imported on first need): requests wait for it, and `close()` before
 * it loaded closes it once it has.
 */
export function deferredTransport(loading: Promise<Transport>): Transport {
  return {
    request: <T>(request: TransportRequest) => loading.then((transport) => transport.request<T>(request)),
    close: () => {
      loading.then(
        (transport) => transport.close(),
        () => {},
      );
    },
  };
}

/** TLS material for a `tcp://`/`https://` engine, read from the cert folder. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

export interface HttpTransportOptions {
  tls?: TlsMaterial;
  /** `ssh_config` file for `ssh://` engines (`ssh -F`). */
  sshConfigFile?: string;
  /** Called with the `Api-Version` header of every answer (the engine's own API version). */
  onApiVersion?: (version: string) => void;
  /** Called with the product an answer's headers name: Podman sends `Libpod-Api-Version` on every answer. */
  onProduct?: (product: "docker" | "podman") => void;
}

/**
 * Connection failures that mean the engine is not there (any more): its socket file is gone, nothing listens, or
 * the connection broke mid-call. Node reports them by errno code, which is what is matched here.
 */
const CONNECTION_LOST = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOENT",
  "EPIPE",
  "ENOTCONN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
]);

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

/** The engine decodes X-Registry-Auth and X-Registry-Config as URL-safe base64 (with padding). */
export function base64Url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function failure(status: number, call: string, text: string): EngineHttpError {
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  const message = (json as { message?: unknown } | null)?.message;
  return new EngineHttpError({
    status,
    call,
    engineMessage: typeof message === "string" ? message.trim() : text.trim(),
    json: json ?? text,
  });
}

/** Node's codes for a server certificate that did not verify (OpenSSL's verify results, and Node's name check). */
const CERT_NOT_VERIFIED = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** What to do about a TLS failure with this code; `undefined` when the code is not a TLS failure. */
function tlsFailureFix(code: string): string | undefined {
  if (CERT_NOT_VERIFIED.has(code)) {
    return "the engine's certificate did not verify: put the CA that signed it in DOCKER_CERT_PATH as ca.pem";
  }
  if (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER") {
    return "the engine does not speak TLS on this port: check the port, or the URL's scheme";
  }
  if (code.startsWith("ERR_SSL_")) {
    return "the engine refused the handshake, usually for a missing or unknown client certificate: put cert.pem and key.pem in DOCKER_CERT_PATH";
  }
  return undefined;
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
 * A lean Engine API client on Node's own `http`/`https`, for unix sockets, named pipes, TCP (with TLS) and ssh
 * (through the system `ssh` client). It does what throwaway needs of a transport (JSON calls, streams, upgrades for
 * exec and attach, registry auth headers) and no more: loading it costs a few milliseconds and a few MiB, where
 * dockerode with its gRPC and SSH stacks costs ~80 ms and ~28 MiB in every test process. Connections are kept alive
 * and reused between calls.
 *
 * Failures are typed: the engine saying no is an {@link EngineHttpError}, the engine being gone an
 * {@link EngineConnectionError}, no answer in time an {@link EngineTimeoutError}.
 */
export class HttpTransport implements Transport {
  private readonly agent: HttpAgent;
  private readonly target: {
    socketPath?: string;
    host?: string;
    port?: number;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    rejectUnauthorized?: boolean;
  };
  private readonly https: boolean;
  private readonly url: string;
  private readonly connect: (() => Duplex) | undefined;
  private readonly onApiVersion: ((version: string) => void) | undefined;
  private readonly onProduct: ((product: "docker" | "podman") => void) | undefined;

  constructor(endpoint: EngineEndpoint, options: HttpTransportOptions = {}) {
    this.url = endpointUrl(endpoint);
    this.onApiVersion = options.onApiVersion;
    this.onProduct = options.onProduct;
    const { tls } = options;
    if (endpoint.kind === "tcp") {
      // TLS whenever the endpoint asks for it (https://, DOCKER_TLS_VERIFY, DOCKER_TLS, a context's certs); a TLS
      // endpoint never falls back to plain HTTP: a failed handshake fails the call.
      this.https = endpoint.tls !== undefined;
      this.target = {
        host: endpoint.host,
        port: endpoint.port,
        ...(this.https
          ? {
              ...(tls?.ca ? { ca: tls.ca } : {}),
              ...(tls?.cert ? { cert: tls.cert } : {}),
              ...(tls?.key ? { key: tls.key } : {}),
              rejectUnauthorized: tls?.verify ?? true,
            }
          : {}),
      };
      this.agent = this.https ? new (loadHttps().Agent)({ keepAlive: true, ...this.target }) : new HttpAgent({ keepAlive: true });
    } else if (endpoint.kind === "ssh") {
      this.https = false;
      this.target = { host: endpoint.host };
      this.agent = new SshAgent(endpoint, options.sshConfigFile);
      this.connect = () => new SshConnection(endpoint, options.sshConfigFile);
    } else {
      this.https = false;
      this.target = { socketPath: endpoint.socketPath };
      this.agent = new HttpAgent({ keepAlive: true });
    }
  }

  request<T>(call: TransportRequest): Promise<T> {
    const name = `${call.method} ${call.path}`;
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
      const connect = this.connect;
      const options: RequestOptions = {
        method: call.method,
        path: `${call.path}${call.query ? encodeQuery(call.query) : ""}`,
        headers,
        ...this.target,
        // Upgraded connections leave the pool for good, and a `fresh` call must not reuse one (a dockerd shutting down
        // still serves the connections it has): both get a connection of their own (Node dials it with
        // `createConnection` only when no agent is given, not even `false`).
        ...(call.hijack || call.fresh
          ? connect
            ? { createConnection: () => connect() as Socket }
            : { agent: false }
          : { agent: this.agent }),
        ...(call.signal ? { signal: call.signal } : {}),
      };
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          fn();
        }
      };
      const fail = (error: unknown) => settle(() => reject(this.connectionError(error, name)));
      const req: ClientRequest = (this.https ? loadHttps().request : httpRequest)(options);
      const bounded = !call.isStream && !call.hijack && call.timeoutMs !== undefined && call.timeoutMs > 0;
      if (bounded) {
        const arm = () => {
          if (settled) return;
          timer = setTimeout(() => {
            const error = new EngineTimeoutError({ endpoint: this.url, call: name, timeoutMs: call.timeoutMs! });
            settle(() => reject(error));
            req.destroy(error);
          }, call.timeoutMs);
        };
        // An upload is counted from its end, so a large copy is not cut short by its own upload time; anything else
        // from the start, connecting included (a TCP engine that drops packets would otherwise hang the OS's way).
        if (call.file) req.once("finish", arm);
        else arm();
      }
      if (call.hijack) {
        req.on("upgrade", (res: IncomingMessage, socket: Duplex, head: Buffer) => {
          this.observe(res);
          this.typeSocketErrors(socket, name);
          if (head.length > 0) socket.unshift(head);
          settle(() => resolve(socket as unknown as T));
        });
      }
      req.on("response", (res: IncomingMessage) => {
        this.observe(res);
        const status = res.statusCode ?? 0;
        if (call.statusCodes[status] !== true) {
          readAll(res).then(
            (text) => settle(() => reject(failure(status, name, text))),
            (error: unknown) => fail(error),
          );
          return;
        }
        if (call.isStream) {
          this.watchStream(res, name, call.signal);
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
          (error: unknown) => fail(error),
        );
      });
      req.on("error", fail);
      if (call.file) {
        call.file.on("error", (error) => req.destroy(error));
        call.file.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  private observe(res: IncomingMessage): void {
    const version = res.headers["api-version"];
    if (typeof version !== "string") return;
    this.onApiVersion?.(version);
    this.onProduct?.(res.headers["libpod-api-version"] !== undefined ? "podman" : "docker");
  }

  /**
   * A stream whose connection breaks before it ends (the engine went away) fails with an
   * {@link EngineConnectionError} instead of Node's bare `aborted`: callers reading logs or events mid-wait can then
   * tell a lost engine from their own abort.
   */
  private watchStream(res: IncomingMessage, name: string, signal: AbortSignal | undefined): void {
    const socket = res.socket;
    if (!socket) return;
    const onClose = () => {
      if (res.complete || res.destroyed || signal?.aborted) return;
      res.destroy(new EngineConnectionError({ endpoint: this.url, call: name, reason: "connection closed mid-stream" }));
    };
    // Ahead of Node's own listener, which would destroy the stream with a plain `aborted` error first.
    socket.prependListener("close", onClose);
    res.once("close", () => socket.removeListener("close", onClose));
  }

  /**
   * An upgraded connection is the caller's from now on, but a reset of it is still the engine going away: its
   * read errors (which Node raises through `destroy`) become an {@link EngineConnectionError} too.
   */
  private typeSocketErrors(socket: Duplex, name: string): void {
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => destroy(error === undefined ? undefined : (this.connectionError(error, name) as Error));
  }

  /**
   * Maps a lost or refused connection to {@link EngineConnectionError} and a failed TLS handshake to
   * {@link EngineTlsError}; other errors (aborts) pass as they are.
   */
  private connectionError(error: unknown, name: string): unknown {
    // The ssh connection knows why it failed but not which call it carried.
    if (error instanceof EngineConnectionError && error.call === "ssh") {
      return new EngineConnectionError({
        endpoint: error.endpoint,
        call: name,
        reason: error.reason,
        ...(error.details ? { details: error.details } : {}),
        cause: error.cause,
      });
    }
    if (error instanceof ThrowawayError) return error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === undefined) return error;
    const tlsFix = this.https ? tlsFailureFix(code) : undefined;
    if (tlsFix) return new EngineTlsError({ endpoint: this.url, call: name, reason: code, fix: tlsFix, cause: error });
    if (!CONNECTION_LOST.has(code)) return error;
    return new EngineConnectionError({ endpoint: this.url, call: name, reason: code, cause: error });
  }

  /** Closes idle kept-alive connections (open ones close when their calls end). */
  close(): void {
    this.agent.destroy();
  }
}
