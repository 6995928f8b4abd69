import type { Engine } from "../engine/engine.js";
import { LABELS } from "../labels.js";
import { UsageError } from "./command.js";
import { formatAge, formatTable } from "./format.js";

/** One warm-start cache image, as `throwaway ps` and `prune --cache` see it. */
export interface WarmCacheImage {
  id: string;
  /** Its tag (`localhost/throwaway-warm/<repo>:<key prefix>`), `""` when untagged. */
  ref: string;
  key: string;
  sizeBytes: number;
  createdMs: number;
  /** The last start that used it (or its capture): the engine's `LastTagTime`, which every warm start refreshes. */
  lastUsedMs: number;
}

/** Every warm-start cache image on the engine, least recently used first. */
export async function listWarmCache(engine: Engine): Promise<WarmCacheImage[]> {
  const images = await engine.listImages({ label: [LABELS.warmKey] });
  const found = await Promise.all(
    images.map(async (image) => {
      const createdMs = image.Created * 1000;
      const inspect = await engine.inspectImage(image.Id).catch(() => undefined);
      const tagged = Date.parse(inspect?.Metadata?.LastTagTime ?? "");
      // The zero time (never tagged) parses to year 1: treat it like a missing one.
      const lastUsedMs = Number.isFinite(tagged) && tagged > createdMs ? tagged : createdMs;
      const ref = (image.RepoTags ?? []).find((t) => t !== "<none>:<none>") ?? "";
      return { id: image.Id, ref, key: image.Labels?.[LABELS.warmKey] ?? "", sizeBytes: image.Size, createdMs, lastUsedMs };
    }),
  );
  return found.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
}

/** `ps`'s lines for the cache: a heading and a table, or nothing when it is empty. */
export function warmCacheLines(cache: readonly WarmCacheImage[], now: number): string[] {
  if (cache.length === 0) return [];
  const total = cache.reduce((sum, image) => sum + image.sizeBytes, 0);
  const rows = cache.map((image) => [
    image.ref || "<untagged>",
    image.id.replace(/^sha256:/, "").slice(0, 12),
    formatSize(image.sizeBytes),
    formatAge(image.lastUsedMs, now),
  ]);
  return [
    `warm-start cache: ${cache.length} image${cache.length === 1 ? "" : "s"}, ${formatSize(total)} (\`throwaway prune --cache\` removes them)`,
    ...formatTable([["IMAGE", "ID", "SIZE", "LAST USED"], ...rows]),
  ];
}

/** `1.2GB`, `312MB`, `4kB`: decimal units, as `docker images` prints sizes. */
export function formatSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--older-than`: milliseconds (`86400000`), or a whole number with a unit (`90s`, `30m`, `12h`, `7d`), because
 * typing days in milliseconds on a command line helps no one.
 */
export function parseOlderThan(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--older-than takes milliseconds or a whole number with ms, s, m, h or d (e.g. 7d), got ${text}`);
  return Number(match[1]) * UNITS[match[2] ?? "ms"]!;
}
