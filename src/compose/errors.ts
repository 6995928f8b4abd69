import { ThrowawayError, type ThrowawayErrorOptions } from "../errors.js";

/** Where in a compose file a problem is: the file, the key path (`services.web.ports[0]`) and the 1-based line. */
export interface ComposeLocation {
  /** The file as given (relative to the project folder when inside it). */
  file: string;
  /** The key path, dotted, with `[n]` for list items; `""` for the file as a whole. */
  keyPath: string;
  /** 1-based line of the key in the file; `undefined` when it is not known (a value from an `.env` file). */
  line: number | undefined;
}

function where(location: ComposeLocation): string {
  const line = location.line === undefined ? "" : `:${location.line}`;
  const key = location.keyPath ? ` at \`${location.keyPath}\`` : "";
  return `${location.file}${line}${key}`;
}

/**
 * A compose file cannot be used: it is not YAML, breaks the Compose Specification's schema, has a bad
 * interpolation (`${VAR:?message}` with VAR unset, `${` without `}`), names a missing `.env`/`env_file`, or a
 * value throwaway cannot turn into a container (a port range mapped to one port). Names the file, key and line.
 */
export class ComposeFileError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_COMPOSE_FILE";
  readonly code = ComposeFileError.CODE;
  readonly file: string;
  readonly keyPath: string;
  readonly line: number | undefined;
  constructor(location: ComposeLocation, problem: string, options: ThrowawayErrorOptions = {}) {
    super(`${where(location)}: ${problem}`, options);
    this.file = location.file;
    this.keyPath = location.keyPath;
    this.line = location.line;
  }
}

/**
 * A compose file uses a key the schema allows but throwaway does not implement (`secrets`, `configs`,
 * `network_mode`, ...). Refused rather than ignored: a container that silently lacks part of its definition
 * fails later in ways that are hard to trace. `key` is the key's name.
 */
export class ComposeUnsupportedError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_COMPOSE_UNSUPPORTED";
  readonly code = ComposeUnsupportedError.CODE;
  readonly file: string;
  readonly keyPath: string;
  readonly line: number | undefined;
  readonly key: string;
  constructor(location: ComposeLocation, key: string, why = "throwaway does not support it") {
    super(`${where(location)}: \`${key}\` is not supported (${why}): remove it, or start this project with docker compose`);
    this.file = location.file;
    this.keyPath = location.keyPath;
    this.line = location.line;
    this.key = key;
  }
}

/**
 * A service of a compose project failed to start, so `up()` failed and removed what it had started. `service` is
 * the service's name, `container` the replica (`web-1`), `exitCode` set when the container exited; `details` holds
 * its last log lines and `cause` the underlying error.
 */
export class ComposeServiceError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_COMPOSE_SERVICE";
  readonly code = ComposeServiceError.CODE;
  readonly service: string;
  readonly container: string;
  readonly exitCode: number | undefined;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { service: string; container: string; exitCode?: number }) {
    super(shortMessage, options);
    this.service = options.service;
    this.container = options.container;
    this.exitCode = options.exitCode;
  }
}

for (const cls of [ComposeFileError, ComposeUnsupportedError, ComposeServiceError]) {
  Object.defineProperty(cls.prototype, "name", { value: cls.name, enumerable: false, configurable: true });
}
