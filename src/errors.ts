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
  constructor(shortMessage: string, options: ThrowawayErrorOptions & { step?: string; output: string }) {
    super(shortMessage, options);
    this.step = options.step;
    this.output = options.output;
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
  ReaperError,
  FixtureFileError,
  FixtureStartError,
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
