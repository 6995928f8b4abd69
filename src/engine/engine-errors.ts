import {
  ContainerStartError,
  EngineApiVersionError,
  EngineConnectionError,
  EngineHostKeyError,
  EngineHttpError,
  EngineRequestError,
  EngineTimeoutError,
  EngineTlsError,
  type ErrorContext,
  ThrowawayError,
} from "../errors.js";

/**
 * The text the engine gave for a failed call (its JSON `message`), else the error's own short text. Both transports
 * reject with an {@link EngineHttpError} when the engine said no, so its words are read from a field, never parsed
 * out of a message.
 */
export function engineMessage(error: unknown): string {
  if (error instanceof EngineHttpError) return error.engineMessage || error.shortMessage;
  if (error instanceof ThrowawayError) return error.shortMessage;
  if (error instanceof Error) return error.message.trim();
  return String(error);
}

/** The HTTP status the engine answered a failed call with; `undefined` when it did not answer (or for other errors). */
export function engineStatus(error: unknown): number | undefined {
  if (error instanceof EngineHttpError) return error.status;
  if (error instanceof EngineRequestError) return error.statusCode;
  return undefined;
}

/** A failure of the engine itself rather than of the call: the engine is gone, hangs, is not trusted, or speaks no common API. */
export type EngineFailure = EngineConnectionError | EngineTimeoutError | EngineHostKeyError | EngineTlsError | EngineApiVersionError;

export function isEngineFailure(error: unknown): error is EngineFailure {
  return (
    error instanceof EngineConnectionError ||
    error instanceof EngineTimeoutError ||
    error instanceof EngineHostKeyError ||
    error instanceof EngineTlsError ||
    error instanceof EngineApiVersionError
  );
}

/**
 * Wraps an engine failure in a {@link ContainerStartError} carrying the engine's own text. A failure of the engine
 * itself (gone, hung, untrusted, incompatible) is returned as it is: one class for it wherever it happens.
 */
export function toStartError(what: string, error: unknown, context: ErrorContext): ContainerStartError | EngineFailure {
  if (isEngineFailure(error)) return error;
  return new ContainerStartError(`${what}: ${engineMessage(error)}`, { ...context, cause: error });
}

/** Wraps a failed call in an {@link EngineRequestError} with the engine's status and text; engine failures pass as they are. */
export function toRequestError(what: string, error: unknown, context: ErrorContext = {}): EngineRequestError | EngineFailure {
  if (isEngineFailure(error)) return error;
  const status = engineStatus(error);
  return new EngineRequestError(`${what}: ${engineMessage(error)}`, {
    ...context,
    cause: error,
    ...(status ? { statusCode: status } : {}),
  });
}
