import { channel } from "node:diagnostics_channel";
import { debuglog } from "node:util";

// NODE_DEBUG=throwaway turns these on; no logging dependency, as Node's own modules do.
const log = debuglog("throwaway");

/** Writes one debug line, prefixed by the area (`engine`, `container 3f2a9c1b7d10`, `wait`). */
export function debug(area: string, message: string): void {
  if (log.enabled) log(`[${area}] ${message}`);
}

export function debugEnabled(): boolean {
  return log.enabled;
}

/**
 * Lifecycle events on `diagnostics_channel`, for tools (the vitest integration, benchmarks) that want to observe
 * without patching: `throwaway:container:start`, `:ready`, `:stop`, and `throwaway:engine:request`.
 */
export const channels = {
  containerCreated: channel("throwaway:container:create"),
  containerReady: channel("throwaway:container:ready"),
  containerStopped: channel("throwaway:container:stop"),
  engineRequest: channel("throwaway:engine:request"),
} as const;
