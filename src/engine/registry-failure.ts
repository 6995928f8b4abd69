/**
 * Why a pull or a push failed. A refusal before any progress is sent comes with the engine's HTTP status, and a
 * 401 or 403 says "denied" on its own. But most registry failures reach us inside the engine's progress stream,
 * which has already answered 200: an `errorDetail` line carries only the registry's (or the engine's) words, with
 * no status or code to branch on. Those words are all there is, so they are classified here, in one place, from
 * the phrases Docker and Podman are known to use; everything else branches on status.
 */
export type RegistryFailure = "no-local-image" | "unreachable" | "denied" | "not-found" | "other";

const NO_LOCAL_IMAGE = /does not exist locally|no such image|An image does not exist/i;
const UNREACHABLE =
  /no such host|dial tcp|connection refused|i\/o timeout|network is unreachable|TLS handshake timeout|server gave HTTP response to HTTPS client/i;
const DENIED = /unauthorized|denied|authentication required|no basic auth credentials|forbidden/i;
const NOT_FOUND = /not found|manifest unknown|does not exist|no such image/i;

/**
 * Classifies a failed pull or push from the engine's `status` (when it refused before the stream) and its `text`.
 * For a push, an image the engine does not have comes first (its text would read as "not found" otherwise).
 */
export function registryFailure(operation: "pull" | "push", text: string, status?: number): RegistryFailure {
  if (status === 401 || status === 403) return "denied";
  if (operation === "push" && NO_LOCAL_IMAGE.test(text)) return "no-local-image";
  if (UNREACHABLE.test(text)) return "unreachable";
  if (DENIED.test(text)) return "denied";
  if (NOT_FOUND.test(text)) return "not-found";
  return "other";
}
