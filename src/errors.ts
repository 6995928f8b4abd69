/**
 * Every error throwaway throws is a {@link ThrowawayError}: a stable `code` to switch on, a one-line `shortMessage`
 * for summaries, and a full `message` that adds what explains the failure (the container's last log lines, the
 * daemon's text). Context (image, container id and name) travels as fields, the underlying error as `cause`.
 */

/** Facts about the thing that failed, shared by most errors. */
export interface ErrorContext {
  /** The image reference, as the user gave it (after substitution). */
  image?: string;
  /** The full container id. Messages show the first 12 characters. */
  containerId?: string;
  /** The container name without the leading slash. */
  containerName?: string;
}

export interface ThrowawayErrorOptions extends ErrorContext {
  /** Extra text after the short message: container logs, daemon output. Kept out of `shortMessage`. */
  details?: string;
  cause?: unknown;
}

const brand = Symbol.for("throwaway.error");

export abstract class ThrowawayError extends Error {
  abstract readonly code: string;
  /** One line: what failed, on which thing, and the fix when we know it. */
  readonly shortMessage: string;
  /** The text after the short message, if any (logs, daemon output). */
  readonly details: string | undefined;
  readonly image: string | undefined;
  readonly containerId: string | undefined;
  readonly containerName: string | undefined;

  constructor(shortMessage: string, options: ThrowawayErrorOptions = {}) {
    const details = options.details?.trimEnd();
    super(details ? `${shortMessage}\n\n${details}` : shortMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = details || undefined;
    this.image = options.image;
    this.containerId = options.containerId;
    this.containerName = options.containerName;
  }

  // Works across copies of the package (a module loading its own core, two versions in one tree): match on the
  // global brand and the code rather than on the class identity.
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null || !(brand in value)) return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being matched against, on purpose.
    if (this === ThrowawayError) return true;
    // biome-ignore lint/complexity/noThisInStatic: as above.
    const code = (this as unknown as { CODE?: string }).CODE;
    return code !== undefined && (value as { code?: unknown }).code === code;
  }
}
Object.defineProperty(ThrowawayError.prototype, brand, { value: true });

function defineName(cls: { prototype: object; name: string }): void {
  Object.defineProperty(cls.prototype, "name", { value: cls.name, enumerable: false, configurable: true });
}

/** A value given to an option is invalid. Thrown before anything is created on the engine. */
export class InvalidOptionError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_INVALID_OPTION";
  readonly code = InvalidOptionError.CODE;
  /** The option's name as users write it, e.g. `withExposedPorts`. */
  readonly option: string;
  readonly received: unknown;

  constructor(option: string, expected: string, received: unknown, options: ThrowawayErrorOptions & { hint?: string } = {}) {
    const hint = options.hint ? `: ${options.hint}` : "";
    super(`Expected \`${option}\` to be ${expected}, got ${describeValue(received)}${hint}`, options);
    this.option = option;
    this.received = received;
  }
}

/** No Docker engine answered at any of the places throwaway looks. */
export class EngineUnavailableError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_UNAVAILABLE";
  readonly code = EngineUnavailableError.CODE;
  /** Each place tried, with why it failed. */
  readonly attempts: readonly { source: string; endpoint: string; error: string }[];

  constructor(attempts: readonly { source: string; endpoint: string; error: string }[], options: ThrowawayErrorOptions = {}) {
    const tried = attempts.map((a) => `  - ${a.source}: ${a.endpoint}: ${a.error}`).join("\n");
    super("No Docker engine answered: start Docker (or Docker Desktop), or point DOCKER_HOST at an engine", {
      ...options,
      details: `Tried, in order:\n${tried || "  (nothing to try)"}`,
    });
    this.attempts = attempts;
  }
}

/** The errors that name a registry (pull, push, credentials). */
abstract class RegistryBoundError extends ThrowawayError {
  /** The registry host, `docker.io` for Docker Hub. */
  readonly registry: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { registry: string }) {
    super(shortMessage, options);
    this.registry = options.registry;
  }
}

/** Pulling an image failed: not found, denied, timed out, or the registry is unreachable. */
export class ImagePullError extends RegistryBoundError {
  static readonly CODE = "THROWAWAY_IMAGE_PULL";
  readonly code = ImagePullError.CODE;
  /** Set when the pull ran out of time: the limit it had, in ms (`THROWAWAY_PULL_TIMEOUT`). */
  readonly timeoutMs: number | undefined;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { registry: string; timeoutMs?: number }) {
    super(shortMessage, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/** The registry refused the credentials (or asked for some and none were found). */
export class RegistryAuthError extends RegistryBoundError {
  static readonly CODE = "THROWAWAY_REGISTRY_AUTH";
  readonly code = RegistryAuthError.CODE;
}

/** Pushing an image failed for a reason other than credentials: no such local image, registry unreachable, ... */
export class ImagePushError extends RegistryBoundError {
  static readonly CODE = "THROWAWAY_IMAGE_PUSH";
  readonly code = ImagePushError.CODE;
}

/** A Dockerfile build failed. `step` is the instruction that failed when the daemon told us. */
export class ImageBuildError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_IMAGE_BUILD";
  readonly code = ImageBuildError.CODE;
  readonly step: string | undefined;
  /** The last lines the build printed. */
  readonly output: string;
  /** True when the engine's disk filled up (`no space left on device`): free space or give the engine more. */
  readonly diskFull: boolean;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { step?: string; output: string; diskFull?: boolean }) {
    super(shortMessage, options);
    this.step = options.step;
    this.output = options.output;
    this.diskFull = options.diskFull ?? false;
  }
}

/**
 * A method was called on a container in a state that cannot serve it: `getFirstMappedPort()` on a container with no
 * exposed ports, `copyFromContainer()` on one that `stop()` removed. The arguments were fine; the container is not.
 */
export class ContainerStateError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_CONTAINER_STATE";
  readonly code = ContainerStateError.CODE;
  /** The method as users write it, e.g. `getFirstMappedPort()`. */
  readonly method: string;
  /** The state that refused it, e.g. `no exposed ports`. */
  readonly state: string;
  constructor(method: string, state: string, fix: string, options: ThrowawayErrorOptions = {}) {
    const id = options.containerId ? ` ${options.containerId.slice(0, 12)}` : "";
    super(`${method} was called on container${id}, which has ${state}: ${fix}`, options);
    this.method = method;
    this.state = state;
  }
}

/** The engine refused to create or start the container (bad mount, port in use, ...). */
export class ContainerStartError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_CONTAINER_START";
  readonly code = ContainerStartError.CODE;
}

/**
 * A lifecycle hook of a module (`beforeContainerCreated`, `containerCreated`, `containerStarting`, `containerStarted`,
 * `containerStopping`, `containerStopped`) threw. `hook` names it; `cause` is what it threw. A start that fails this
 * way has removed the container it created.
 */
export class LifecycleHookError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_LIFECYCLE_HOOK";
  readonly code = LifecycleHookError.CODE;
  readonly hook: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { hook: string }) {
    super(shortMessage, options);
    this.hook = options.hook;
  }
}

/** The container exited (or was OOM-killed) while we waited for it to become ready. */
export class ContainerExitedError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_CONTAINER_EXITED";
  readonly code = ContainerExitedError.CODE;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { exitCode: number; oomKilled: boolean }) {
    super(shortMessage, options);
    this.exitCode = options.exitCode;
    this.oomKilled = options.oomKilled;
  }
}

/** The service did not become ready within the startup timeout. */
export class WaitTimeoutError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_WAIT_TIMEOUT";
  readonly code = WaitTimeoutError.CODE;
  /** The strategy's one-line description, e.g. `log message /ready/ x2`. */
  readonly strategy: string;
  readonly timeoutMs: number;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly lastError: string | undefined;
  constructor(
    shortMessage: string,
    options: ThrowawayErrorOptions & { strategy: string; timeoutMs: number; elapsedMs: number; attempts: number; lastError?: string },
  ) {
    super(shortMessage, options);
    this.strategy = options.strategy;
    this.timeoutMs = options.timeoutMs;
    this.elapsedMs = options.elapsedMs;
    this.attempts = options.attempts;
    this.lastError = options.lastError;
  }
}

/** A wait strategy decided the container can never become ready (e.g. its health check reports `unhealthy`). */
export class ContainerNotReadyError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_CONTAINER_NOT_READY";
  readonly code = ContainerNotReadyError.CODE;
  readonly strategy: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { strategy: string }) {
    super(shortMessage, options);
    this.strategy = options.strategy;
  }
}

/** An Engine API call failed in a way none of the more specific errors covers. */
export class EngineRequestError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_REQUEST";
  readonly code = EngineRequestError.CODE;
  /** The HTTP status the engine answered with, when it answered. */
  readonly statusCode: number | undefined;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { statusCode?: number }) {
    super(shortMessage, options);
    this.statusCode = options.statusCode;
  }
}

/**
 * The engine answered an Engine API call with a status the call does not accept. Callers branch on `status`; the
 * engine's own words are in `engineMessage`, unchanged.
 */
export class EngineHttpError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_HTTP";
  readonly code = EngineHttpError.CODE;
  /** The HTTP status the engine answered with. */
  readonly status: number;
  /** The same as `status`, under the name {@link EngineRequestError} uses. */
  readonly statusCode: number;
  /** The engine's own text (its JSON `message`, else the body), trimmed; empty when it sent none. */
  readonly engineMessage: string;
  /** The call, e.g. `GET /containers/3f2a9c1b7d10/json`. */
  readonly call: string;
  /** The engine's answer, parsed when it was JSON. */
  readonly json: unknown;
  constructor(options: ThrowawayErrorOptions & { status: number; engineMessage: string; call: string; json?: unknown }) {
    super(
      `${options.call}: the engine answered HTTP ${options.status}${options.engineMessage ? `: ${options.engineMessage}` : ""}`,
      options,
    );
    this.status = options.status;
    this.statusCode = options.status;
    this.engineMessage = options.engineMessage;
    this.call = options.call;
    this.json = options.json;
  }
}

/**
 * The engine went away while a call was in flight or could not be reached at all: the connection was refused or
 * reset, its socket is gone, or the ssh process carrying it ended. One class for all of these, so callers can tell
 * "the engine is gone" from "the engine said no" ({@link EngineHttpError}).
 */
export class EngineConnectionError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_CONNECTION";
  readonly code = EngineConnectionError.CODE;
  /** The engine's URL, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  /** The call that was cut off, e.g. `POST /containers/3f2a9c1b7d10/wait`. */
  readonly call: string;
  /** What the connection reported, e.g. `ECONNRESET`, `ECONNREFUSED`, `ENOENT`, `ssh exited with code 255`. */
  readonly reason: string;
  constructor(options: ThrowawayErrorOptions & { endpoint: string; call: string; reason: string }) {
    super(`The engine at ${options.endpoint} went away (${options.reason}) during ${options.call}`, options);
    this.endpoint = options.endpoint;
    this.call = options.call;
    this.reason = options.reason;
  }
}

/**
 * A non-streaming Engine API call got no answer within its deadline (`THROWAWAY_API_TIMEOUT`): the engine accepted
 * the connection but hangs. Streams (logs, events, pulls, builds, exec, waits) have no such deadline.
 */
export class EngineTimeoutError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_TIMEOUT";
  readonly code = EngineTimeoutError.CODE;
  readonly endpoint: string;
  /** The call that got no answer, e.g. `POST /containers/create`. */
  readonly call: string;
  readonly timeoutMs: number;
  constructor(options: ThrowawayErrorOptions & { endpoint: string; call: string; timeoutMs: number }) {
    super(
      `The engine at ${options.endpoint} did not answer ${options.call} within ${options.timeoutMs} ms: check that the engine is healthy, or raise THROWAWAY_API_TIMEOUT`,
      options,
    );
    this.endpoint = options.endpoint;
    this.call = options.call;
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * The ssh host key of an `ssh://` engine did not verify against known_hosts (unknown host, or a key that changed).
 * Nothing was sent to the engine. The message says how to add the key; it quotes no key material.
 */
export class EngineHostKeyError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_HOST_KEY";
  readonly code = EngineHostKeyError.CODE;
  /** The ssh host as written in the engine's URL. */
  readonly host: string;
  /** The port from the URL; `undefined` when ssh's config decides it. */
  readonly port: number | undefined;
  constructor(options: ThrowawayErrorOptions & { host: string; port?: number; endpoint: string }) {
    const target = options.port === undefined ? options.host : `[${options.host}]:${options.port}`;
    const scan = options.port === undefined ? options.host : `-p ${options.port} ${options.host}`;
    super(
      `The ssh host key of ${target} (${options.endpoint}) did not verify against known_hosts: check the key's fingerprint with the engine's owner, then add it (\`ssh-keyscan ${scan} >> ~/.ssh/known_hosts\`, or connect once with \`ssh\` and accept it)`,
      options,
    );
    this.host = options.host;
    this.port = options.port;
  }
}

/**
 * TLS with a `tcp://`/`https://` engine failed: its certificate did not verify, it refused ours, or it does not
 * speak TLS on that port. Nothing was sent in plain text. `reason` is Node's TLS error code.
 */
export class EngineTlsError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_TLS";
  readonly code = EngineTlsError.CODE;
  readonly endpoint: string;
  readonly call: string;
  /** e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`, `EPROTO`. */
  readonly reason: string;
  constructor(options: ThrowawayErrorOptions & { endpoint: string; call: string; reason: string; fix: string }) {
    super(`TLS with the engine at ${options.endpoint} failed (${options.reason}) during ${options.call}: ${options.fix}`, options);
    this.endpoint = options.endpoint;
    this.call = options.call;
    this.reason = options.reason;
  }
}

/**
 * The engine and throwaway share no Engine API version: the engine is older than the oldest version throwaway
 * supports, or it refuses the version throwaway asked for (e.g. one pinned with `THROWAWAY_API_VERSION`).
 */
export class EngineApiVersionError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_API_VERSION";
  readonly code = EngineApiVersionError.CODE;
  readonly endpoint: string;
  /** The version throwaway asked for (or the oldest it supports, when the engine is too old). */
  readonly clientVersion: string;
  /** The highest version the engine speaks. */
  readonly engineVersion: string;
  /** The oldest version the engine accepts, when it said. */
  readonly engineMinVersion: string | undefined;
  constructor(
    shortMessage: string,
    options: ThrowawayErrorOptions & { endpoint: string; clientVersion: string; engineVersion: string; engineMinVersion?: string },
  ) {
    super(shortMessage, options);
    this.endpoint = options.endpoint;
    this.clientVersion = options.clientVersion;
    this.engineVersion = options.engineVersion;
    this.engineMinVersion = options.engineMinVersion;
  }
}

/**
 * The reaper (the watchdog process that removes a session's resources when its processes die) could not be set up.
 * The fix is in the message; `THROWAWAY_REAPER=off` runs without it (a start-up sweep then removes dead sessions).
 */
export class ReaperError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_REAPER";
  readonly code = ReaperError.CODE;
}

/**
 * A fixture file (`throwaway up`) cannot be used: it does not exist, does not load (a syntax error, a throw while it
 * runs), or exports no fixtures. `file` is the path as given.
 */
export class FixtureFileError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_FIXTURE_FILE";
  readonly code = FixtureFileError.CODE;
  readonly file: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { file: string }) {
    super(shortMessage, options);
    this.file = options.file;
  }
}

/**
 * One fixture of a set failed to start. `cause` is the error that stopped it (a container that exited, a wait that
 * timed out, a bad option) and its details (the container's last log lines) are this error's details.
 */
export class FixtureStartError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_FIXTURE_START";
  readonly code = FixtureStartError.CODE;
  /** The fixture's name, as declared with `add(name, ...)`. */
  readonly fixture: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { fixture: string }) {
    super(shortMessage, options);
    this.fixture = options.fixture;
  }
}

/**
 * The engine cannot do what was asked, by its nature: a remote engine cannot mount the client's folders. The message
 * names the engine and the alternative; `feature` is what was refused, `engine` the engine's URL.
 */
export class EngineUnsupportedError extends ThrowawayError {
  static readonly CODE = "THROWAWAY_ENGINE_UNSUPPORTED";
  readonly code = EngineUnsupportedError.CODE;
  readonly feature: string;
  readonly engine: string;
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { feature: string; engine: string }) {
    super(shortMessage, options);
    this.feature = options.feature;
    this.engine = options.engine;
  }
}

for (const cls of [
  InvalidOptionError,
  EngineUnavailableError,
  ImagePullError,
  RegistryAuthError,
  ImagePushError,
  ImageBuildError,
  ContainerStartError,
  LifecycleHookError,
  ContainerExitedError,
  WaitTimeoutError,
  ContainerNotReadyError,
  EngineRequestError,
  EngineHttpError,
  EngineConnectionError,
  EngineTimeoutError,
  EngineHostKeyError,
  EngineTlsError,
  EngineApiVersionError,
  ReaperError,
  FixtureFileError,
  FixtureStartError,
  EngineUnsupportedError,
]) {
  defineName(cls);
}

/** `42 (number)`, `"abc" (string)`, `undefined`: how error messages quote received values. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "`undefined`";
  if (value === null) return "`null`";
  if (typeof value === "string") return `\`${JSON.stringify(value)}\` (string)`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `\`${String(value)}\` (${typeof value})`;
  }
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `\`${safeJson(value)}\` (array)`;
  return `\`${safeJson(value)}\` (${value.constructor?.name ?? "object"})`;
}

function safeJson(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}

/** The 12-character id Docker prints. */
export function shortId(id: string | undefined): string {
  return id ? id.slice(0, 12) : "(no id)";
}

/** `container 3f2a9c1b7d10 (mysql:5.7)` with whatever of name/image is known. */
export function describeContainer(ctx: ErrorContext): string {
  const parts = [ctx.containerName, ctx.image].filter(Boolean).join(", ");
  return `container ${shortId(ctx.containerId)}${parts ? ` (${parts})` : ""}`;
}
