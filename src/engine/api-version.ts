/**
 * Engine API versions: which one throwaway speaks to a given engine. Every Engine API answer carries the engine's own
 * version in its `Api-Version` header (discovery's `/_ping` is the first), so the version is known without a call
 * of its own; requests then go to versioned paths (`/v1.41/containers/create`), which pins the shape of what the
 * engine sends back.
 */

/** The oldest Engine API version throwaway works with: Docker 20.10, Podman 4's compat API. */
export const MIN_API_VERSION = "1.41";

/**
 * The newest version throwaway is written against. A newer engine is spoken to at this version (Docker 29 serves
 * 1.44 to 1.52), so what it answers keeps the shapes throwaway reads.
 */
export const MAX_API_VERSION = "1.47";

/** `1.41` → `[1, 41]`; `undefined` for anything else. */
export function parseApiVersion(text: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b` (both valid versions). */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor, aMinor] = parseApiVersion(a) ?? [0, 0];
  const [bMajor, bMinor] = parseApiVersion(b) ?? [0, 0];
  return aMajor - bMajor || aMinor - bMinor;
}

/** The version to speak to an engine whose newest is `engineVersion`: that one, capped at {@link MAX_API_VERSION}. */
export function negotiateApiVersion(engineVersion: string): string {
  return compareApiVersions(engineVersion, MAX_API_VERSION) > 0 ? MAX_API_VERSION : engineVersion;
}
