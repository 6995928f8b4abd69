import { channel } from "node:diagnostics_channel";
import { debuglog } from "node:util";

// NODE_DEBUG=throwaway turns these on; no logging dependency, as Node's own modules do.
const log = debuglog("throwaway");
// Bun's debuglog logs but has no `enabled`: there, read NODE_DEBUG as Node does (comma-separated names, `*` globs).
const enabled = typeof log.enabled === "boolean" ? log.enabled : namedIn(process.env.NODE_DEBUG ?? "", "throwaway");

function namedIn(list: string, name: string): boolean {
  return list.split(",").some((entry) => {
    const pattern = entry
      .trim()
      .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*");
    return pattern !== "" && new RegExp(`^${pattern}$`, "i").test(name);
  });
}

/** Writes one debug line, prefixed by the area (`engine`, `container 3f2a9c1b7d10`, `wait`). */
export function debug(area: string, message: string): void {
  if (enabled) log(`[${area}] ${message}`);
}

export function debugEnabled(): boolean {
  return enabled;
}

/**
 * Lifecycle events on `diagnostics_channel`, for tools (the vitest integration, benchmarks) that want to observe
 * without patching: `throwaway:container:create`, `:ready` and `:stop` (README, "Diagnostics channels").
 */
export const channels = {
  containerCreated: channel("throwaway:container:create"),
  containerReady: channel("throwaway:container:ready"),
  containerStopped: channel("throwaway:container:stop"),
} as const;
