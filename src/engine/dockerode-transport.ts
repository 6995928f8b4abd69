/**
 * The transport for a dockerode client passed in code (`new Engine(endpoint, docker)`). Loaded only then, by a
 * dynamic import: everyone else never pays for it, and dockerode itself is never imported here (the client is the
 * user's; only its modem is called), so throwaway installs and runs without dockerode.
 */
import { EngineHttpError, EngineTimeoutError } from "../errors.js";
import { base64Url, type Transport, type TransportRequest } from "./transport.js";

/**
 * What throwaway needs of a dockerode client: its modem. A `new Docker()` is one; the shape is spelled out here so
 * throwaway's types do not depend on dockerode's.
 */
export interface DockerodeClient {
  modem: { dial(options: object, callback: (error: unknown, data: unknown) => void): void };
}

/** docker-modem's failure for an answer with an unexpected status: its own text, plus the status and the body. */
interface ModemError extends Error {
  statusCode?: unknown;
  json?: unknown;
}

/**
 * The engine's refusal as an {@link EngineHttpError}, read from the fields docker-modem sets (`statusCode`, the
 * parsed body in `json`), never from its `(HTTP code N) reason - msg` text. Anything else (a refused connection, an
 * abort) passes as it is.
 */
export function fromModemError(error: unknown, call: string): unknown {
  const e = error as ModemError | undefined;
  if (typeof e?.statusCode !== "number") return error;
  const json = e.json;
  const message =
    json && typeof json === "object" && typeof (json as { message?: unknown }).message === "string"
      ? (json as { message: string }).message
      : typeof json === "string"
        ? json
        : Buffer.isBuffer(json)
          ? json.toString("utf8")
          : "";
  return new EngineHttpError({ status: e.statusCode, call, engineMessage: message.trim(), json: json ?? null, cause: error });
}

export class DockerodeTransport implements Transport {
  constructor(
    private readonly client: DockerodeClient,
    /** The engine's URL, for error messages. */
    private readonly url: string,
  ) {}

  request<T>(call: TransportRequest): Promise<T> {
    const name = `${call.method} ${call.path}`;
    const hasQuery = call.query !== undefined && Object.keys(call.query).length > 0;
    // An upload's time is its size's, not the engine's (the HTTP transport counts from the upload's end, which
    // docker-modem cannot tell): uploads, streams and upgrades are not bounded.
    const bounded = !call.isStream && !call.hijack && !call.file && call.timeoutMs !== undefined && call.timeoutMs > 0;
    const timeout = bounded ? AbortSignal.timeout(call.timeoutMs!) : undefined;
    const signal = timeout && call.signal ? AbortSignal.any([call.signal, timeout]) : (timeout ?? call.signal);
    const options: Record<string, unknown> = {
      path: hasQuery ? `${call.path}?` : call.path,
      method: call.method,
      options: {
        ...(hasQuery ? { _query: call.query } : {}),
        ...(call.body !== undefined ? { _body: call.body } : {}),
      },
      statusCodes: call.statusCodes,
      isStream: call.isStream,
      ...(signal ? { abortSignal: signal } : {}),
      ...(call.hijack ? { hijack: true } : {}),
      ...(call.file ? { file: call.file } : {}),
      ...(call.authconfig ? { authconfig: call.authconfig } : {}),
      // docker-modem encodes it with the standard alphabet, which the engine decodes as URL-safe: it would drop the
      // credentials of a password with `~`, `?` or `>` at the wrong offset. Given pre-encoded, it is sent as is.
      ...(call.registryconfig ? { registryconfig: { base64: base64Url(call.registryconfig) } } : {}),
      ...(call.headers ? { headers: call.headers } : {}),
    };
    return new Promise<T>((resolve, reject) => {
      this.client.modem.dial(options, (error, data) => {
        if (!error) return resolve(data as T);
        if (timeout?.aborted && !call.signal?.aborted) {
          return reject(new EngineTimeoutError({ endpoint: this.url, call: name, timeoutMs: call.timeoutMs!, cause: error }));
        }
        reject(fromModemError(error, name));
      });
    });
  }

  /** The client's connections are its owner's to close. */
  close(): void {}
}
