import { InvalidOptionError } from "./errors.js";

/**
 * `os/arch[/variant]` as the engine's platform parser takes it: each part letters, digits, `_` or `-` (the engine
 * lowercases them), and a variant may carry dots. An os alone is refused: it would pick an arch by surprise.
 */
const PLATFORM = /^[a-z0-9_-]+\/[a-z0-9_-]+(?:\/[a-z0-9_.-]+)?$/i;

/** What a platform option expects, for {@link InvalidOptionError}. */
export const PLATFORM_EXPECTED = "`os/arch[/variant]`, e.g. `linux/amd64`";

/** Whether `value` is a platform the engine accepts (`linux/amd64`, `linux/arm64/v8`). */
export function isPlatform(value: string): boolean {
  return PLATFORM.test(value);
}

/** The one check for every `withPlatform`: `undefined` stays unset, anything else must be a platform string. */
export function normalizePlatform(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !isPlatform(value)) throw new InvalidOptionError(option, PLATFORM_EXPECTED, value);
  return value;
}
