import {
  describeContainer as describeContainerInternal,
  describeValue as describeValueInternal,
  type ErrorContext,
  shortId as shortIdInternal,
} from "./errors.js";

/**
 * Message helpers the root entry used to export (through `export *` of the error module) although they were never
 * documented: kept, so no import breaks, and each warns once that it leaves the public surface in the next minor
 * version. Errors' own messages keep using the internal ones.
 */
const warned = new Set<string>();

function warnOnce(name: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  process.emitWarning(
    `${name}() from "throwaway" is an internal message helper and leaves the public API in the next minor version; format the value yourself`,
    { type: "DeprecationWarning", code: "THROWAWAY_INTERNAL_HELPER" },
  );
}

/** @deprecated Internal message helper; leaves the public API in the next minor version. */
export function describeValue(value: unknown): string {
  warnOnce("describeValue");
  return describeValueInternal(value);
}

/** @deprecated Internal message helper; leaves the public API in the next minor version. */
export function shortId(id: string | undefined): string {
  warnOnce("shortId");
  return shortIdInternal(id);
}

/** @deprecated Internal message helper; leaves the public API in the next minor version. */
export function describeContainer(ctx: ErrorContext): string {
  warnOnce("describeContainer");
  return describeContainerInternal(ctx);
}
