import { EngineConnectionError } from "../errors.js";

/**
 * Socket errors that mean the engine is not there any more: the connection broke mid-call (`ECONNRESET`, `EPIPE`)
 * or no new one can be made (`ECONNREFUSED`: nothing listens; `ENOENT`: the socket file is gone). Errno codes, not
 * messages: they are the kernel's, stable across Node versions and locales.
 */
const CONNECTION_LOST = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ENOENT",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** True when `error` (or an error it wraps) says the connection to the engine is lost, not that a call failed. */
export function isConnectionLoss(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EngineConnectionError) return true;
    const code = (e as { code?: unknown }).code;
    // An HTTP status means the engine answered: whatever failed, it is there.
    if ((e as { statusCode?: unknown }).statusCode !== undefined) return false;
    if (typeof code === "string" && CONNECTION_LOST.has(code)) return true;
  }
  return false;
}

/** What the connection reported, for {@link EngineConnectionError.reason}: `ECONNRESET`, `ENOENT`, ... */
export function lossReason(error: unknown): string {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EngineConnectionError) return e.reason;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_LOST.has(code)) return code;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why the engine accepts no new connection, or `undefined` when it does, answers with an error, or cannot tell
 * within `timeoutMs` (a slow engine is not a gone one). `probe` is the engine's `pingNewConnection`.
 */
export async function engineGoneReason(probe: (signal: AbortSignal) => Promise<void>, timeoutMs: number): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([
      probe(signal),
      new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
    return undefined;
  } catch (error) {
    return isConnectionLoss(error) ? error : undefined;
  }
}
