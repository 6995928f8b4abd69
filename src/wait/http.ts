import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import { normalizeDuration } from "../duration.js";
import { InvalidOptionError } from "../errors.js";
import { PermanentFailure, poll } from "./poll.js";
import { BaseWaitStrategy, quote, type WaitContext, type WaitTarget } from "./strategy.js";

// node:https (and TLS with it) is loaded for TLS waits only: about 1 MiB that most test processes never need.
const requireBuiltin = createRequire(import.meta.url);

/** The most of a response body read for the body predicate and error text; more is not read. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** TLS failures that retrying cannot fix: the certificate will not change while we wait. */
const CERTIFICATE_ERRORS = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

type BodyPredicate = (body: string) => boolean | Promise<boolean>;

/**
 * Ready when an HTTP(S) request to `path` on the container port's mapped host port gets an accepted status (default:
 * any 2xx) and, when a body predicate is set, a body it accepts. Probes start 5 ms apart and back off to 50 ms (a
 * refused or proxied connection costs the service nothing, a request little); each request has its own read timeout.
 * Configure by chaining: `Wait.forHttp("/health", 8080).forStatusCode(204)`.
 */
export class HttpWaitStrategy extends BaseWaitStrategy {
  readonly path: string;
  readonly port: number;
  private readonly statusCodes: number[] = [];
  private readonly statusPredicates: ((status: number) => boolean)[] = [];
  private bodyPredicate: BodyPredicate | undefined;
  private method = "GET";
  private readonly headers: Record<string, string> = {};
  private tls = false;
  private insecure = false;
  private readTimeoutMs = 1000;

  /**
   * @param path the request path with its query, starting with `/`, e.g. `/health?full=1`.
   * @param port the container port (not the host port); it must be exposed with `withExposedPorts`.
   */
  constructor(path: string, port: number) {
    super();
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new InvalidOptionError("Wait.forHttp(path)", "a path starting with `/`", path, { hint: "e.g. `/health`" });
    }
    if (/[\s]/.test(path)) throw new InvalidOptionError("Wait.forHttp(path)", "a path without whitespace (URL-encode it)", path);
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InvalidOptionError("Wait.forHttp(path, port)", "a container port 1-65535", port);
    }
    this.path = path;
    this.port = port;
  }

  /** Accepts this status code. Call again to accept several; any accepted code (or status predicate) will do. */
  forStatusCode(statusCode: number): this {
    if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw new InvalidOptionError("forStatusCode(statusCode)", "an HTTP status code 100-599", statusCode);
    }
    this.statusCodes.push(statusCode);
    return this;
  }

  /** Accepts the statuses `predicate` returns true for, e.g. `(s) => s < 500`. Combines with `forStatusCode` as "any". */
  forStatusCodeMatching(predicate: (statusCode: number) => boolean): this {
    if (typeof predicate !== "function") throw new InvalidOptionError("forStatusCodeMatching(predicate)", "a function", predicate);
    this.statusPredicates.push(predicate);
    return this;
  }

  /**
   * Also requires the response body (decoded as UTF-8, at most 1 MiB) to satisfy `predicate`, e.g.
   * `(body) => JSON.parse(body).status === "UP"`. A predicate that throws counts as "not yet".
   */
  forResponsePredicate(predicate: BodyPredicate): this {
    if (typeof predicate !== "function") throw new InvalidOptionError("forResponsePredicate(predicate)", "a function", predicate);
    this.bodyPredicate = predicate;
    return this;
  }

  /** The request method. Default `GET`. */
  withMethod(method: string): this {
    if (typeof method !== "string" || !/^[A-Za-z]+$/.test(method)) {
      throw new InvalidOptionError("withMethod(method)", "an HTTP method such as `GET` or `HEAD`", method);
    }
    this.method = method.toUpperCase();
    return this;
  }

  /** Request headers, merged over earlier calls. */
  withHeaders(headers: Record<string, string>): this {
    if (typeof headers !== "object" || headers === null || Object.values(headers).some((v) => typeof v !== "string")) {
      throw new InvalidOptionError("withHeaders(headers)", "an object of string header values", headers);
    }
    Object.assign(this.headers, headers);
    return this;
  }

  /** Sends `Authorization: Basic ...` with these credentials. */
  withBasicCredentials(username: string, password: string): this {
    if (typeof username !== "string" || username.includes(":")) {
      throw new InvalidOptionError("withBasicCredentials(username)", "a string without `:`", username);
    }
    if (typeof password !== "string") throw new InvalidOptionError("withBasicCredentials(password)", "a string", password);
    this.headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    return this;
  }

  /** Uses HTTPS. The certificate is verified unless {@link allowInsecure} is also called. Default: plain HTTP. */
  usingTls(tls = true): this {
    this.tls = tls;
    return this;
  }

  /** Accepts any TLS certificate (self-signed ones in test images). Default: verified. Implies nothing without TLS. */
  allowInsecure(insecure = true): this {
    this.insecure = insecure;
    return this;
  }

  /** Milliseconds one request may take, from connecting to the last body byte. Default 1000. */
  withReadTimeout(ms: number): this {
    this.readTimeoutMs = normalizeDuration("withReadTimeout(ms)", ms);
    return this;
  }

  describe(): string {
    const statuses = [...this.statusCodes.map(String), ...(this.statusPredicates.length > 0 ? ["matching status"] : [])];
    const expect = statuses.length > 0 ? statuses.join("|") : "2xx";
    const body = this.bodyPredicate ? " with accepted body" : "";
    const insecure = this.tls && this.insecure ? " (any certificate)" : "";
    return `${this.tls ? "https" : "http"} ${this.method} ${this.path} on ${this.port} -> ${expect}${body}${insecure}`;
  }

  async waitUntilReady(target: WaitTarget, context: WaitContext): Promise<void> {
    const bound = target.boundPorts().filter((p) => p.protocol === "tcp");
    if (!bound.some((p) => p.port === this.port)) {
      const exposed = bound.length > 0 ? bound.map((p) => `${p.port}/tcp`).join(", ") : "none";
      throw new InvalidOptionError(`Wait.forHttp(path, ${this.port})`, `an exposed TCP port (exposed: ${exposed})`, this.port, {
        hint: `add withExposedPorts(${this.port}) to the container`,
      });
    }
    let hostPort: number | undefined;
    await poll(
      context,
      () => {
        // Looked up at probe time: a container that died at once never gets a binding, and its exit is the error.
        if (hostPort === undefined) {
          try {
            hostPort = target.mappedPort(this.port, "tcp");
          } catch {
            throw new Error(`${this.port}/tcp has no host port binding yet`);
          }
        }
        const host = target.host.includes(":") ? `[${target.host}]` : target.host;
        return this.probe(target.host, hostPort, `${this.tls ? "https" : "http"}://${host}:${hostPort}${this.path}`, context.signal);
      },
      {
        minIntervalMs: 5,
        maxIntervalMs: 50,
        factor: 1.5,
      },
    );
  }

  private async probe(host: string, port: number, url: string, signal: AbortSignal): Promise<void> {
    let response: { status: number; statusText: string; body: string };
    try {
      response = await this.send(host, port, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const e = error as NodeJS.ErrnoException;
      const text = `${this.method} ${url} failed: ${e.message}`;
      if (e.code && CERTIFICATE_ERRORS.has(e.code)) {
        throw new PermanentFailure(`${text} (${e.code}): call allowInsecure() to accept the container's certificate`);
      }
      // A TLS handshake answered by something that is not TLS fails with EPROTO (OpenSSL's "wrong version number"
      // lives only in the text); an HTTPS probe of a plain-HTTP port is the common case, and no retry changes it.
      if (this.tls && e.code === "EPROTO") {
        throw new PermanentFailure(`${text}: the port speaks plain HTTP, not TLS; drop usingTls()`);
      }
      throw new Error(text, { cause: error });
    }
    const { status, statusText, body } = response;
    const answered = `${this.method} ${url} answered ${status}${statusText ? ` ${statusText}` : ""}`;
    if (!this.acceptsStatus(status)) throw new Error(`${answered}${body ? `: ${quote(body)}` : ""}`);
    if (!this.bodyPredicate) return;
    let accepted: boolean;
    try {
      accepted = await this.bodyPredicate(body);
    } catch (error) {
      throw new Error(`${answered} and the response predicate threw ${(error as Error)?.message ?? String(error)} on ${quote(body)}`);
    }
    if (accepted !== true) throw new Error(`${answered} but the response predicate rejected ${body ? quote(body) : "the empty body"}`);
  }

  private acceptsStatus(status: number): boolean {
    if (this.statusCodes.length === 0 && this.statusPredicates.length === 0) return status >= 200 && status < 300;
    return this.statusCodes.includes(status) || this.statusPredicates.some((predicate) => predicate(status));
  }

  /** One request with a fresh connection (no agent: nothing may outlive the wait). */
  private send(host: string, port: number, signal: AbortSignal): Promise<{ status: number; statusText: string; body: string }> {
    const headers: OutgoingHttpHeaders = { ...this.headers };
    return new Promise((resolve, reject) => {
      const options = {
        host,
        port,
        path: this.path,
        method: this.method,
        headers,
        agent: false as const,
        signal,
        ...(this.tls ? { rejectUnauthorized: !this.insecure } : {}),
      };
      const req = this.tls ? (requireBuiltin("node:https") as typeof import("node:https")).request(options) : httpRequest(options);
      const timer = setTimeout(() => req.destroy(new Error(`no complete response within ${this.readTimeoutMs} ms`)), this.readTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(signal.aborted ? signal.reason : error);
      };
      req.once("error", fail);
      req.once("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size >= MAX_BODY_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.once("error", fail);
        res.once("end", () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", body });
        });
      });
      req.end();
    });
  }
}
