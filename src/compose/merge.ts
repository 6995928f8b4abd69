/**
 * Service definitions in one canonical shape, so several files (and `extends`) merge as Compose merges them:
 * mappings (`environment`, `labels`, `depends_on`, `networks`, `extra_hosts`, `ulimits`) merge key by key, the later
 * file winning; `build`, `healthcheck` and `deploy` merge deeply; `ports`, `expose`, `env_file`, `tmpfs`, `cap_add`
 * and `cap_drop` are concatenated (without repeats); `volumes` merge by their target path; anything else is
 * replaced. Relative paths are made absolute here, against the folder the definition's paths are relative to.
 */
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";

export type RawService = Record<string, unknown>;

const SHALLOW_MAPS = new Set(["environment", "labels", "depends_on", "networks", "extra_hosts", "ulimits"]);
const DEEP_MAPS = new Set(["build", "healthcheck", "deploy"]);
const APPENDED = new Set(["ports", "expose", "env_file", "tmpfs", "cap_add", "cap_drop"]);

/** Resolves `.`/`..`/`~` paths as Compose does; anything else is left as it is. */
export function resolveHostPath(path: string, baseDir: string): string {
  if (path === "~" || path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Splits `KEY=value` (value `null` for a bare `KEY`, which takes its value from the environment). */
function listToMap(list: unknown[], separator: RegExp): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const entry of list) {
    const text = String(entry);
    const match = separator.exec(text);
    if (match?.index === undefined) map[text] = null;
    else map[text.slice(0, match.index)] = text.slice(match.index + match[0].length);
  }
  return map;
}

/** The target path of a `volumes` entry (short or long form), which later files merge on. */
export function volumeTarget(entry: unknown): string {
  if (typeof entry === "string") {
    const parts = entry.split(":");
    return parts.length === 1 ? parts[0]! : parts[1]!;
  }
  return String((entry as { target?: unknown }).target ?? "");
}

/** One service's definition with its lists-or-maps turned into maps and its paths made absolute. */
export function canonicalService(raw: RawService, baseDir: string): RawService {
  const out: RawService = { ...raw };
  for (const key of ["environment", "labels"]) {
    if (Array.isArray(out[key])) out[key] = listToMap(out[key] as unknown[], /=/);
  }
  if (Array.isArray(out.extra_hosts)) out.extra_hosts = listToMap(out.extra_hosts as unknown[], /[=:]/);
  if (Array.isArray(out.depends_on)) {
    out.depends_on = Object.fromEntries((out.depends_on as string[]).map((name) => [name, { condition: "service_started" }]));
  }
  if (Array.isArray(out.networks)) out.networks = Object.fromEntries((out.networks as string[]).map((name) => [name, null]));
  if (typeof out.build === "string") out.build = { context: out.build };
  if (out.build && typeof out.build === "object") {
    const build = { ...(out.build as Record<string, unknown>) };
    build.context = resolveHostPath(String(build.context ?? "."), baseDir);
    if (Array.isArray(build.args)) build.args = listToMap(build.args, /=/);
    out.build = build;
  }
  for (const key of ["env_file", "tmpfs"]) {
    if (typeof out[key] === "string") out[key] = [out[key]];
  }
  if (Array.isArray(out.env_file)) {
    out.env_file = (out.env_file as unknown[]).map((entry) => {
      const file = typeof entry === "string" ? { path: entry } : { ...(entry as Record<string, unknown>) };
      return { ...file, path: resolveHostPath(String(file.path), baseDir) };
    });
  }
  if (Array.isArray(out.volumes)) {
    out.volumes = (out.volumes as unknown[]).map((entry) => {
      if (typeof entry === "string") {
        const [source, ...rest] = entry.split(":");
        if (rest.length > 0 && /^[.~/]/.test(source!)) return [resolveHostPath(source!, baseDir), ...rest].join(":");
        return entry;
      }
      const long = { ...(entry as Record<string, unknown>) };
      if (long.type === "bind" && typeof long.source === "string") long.source = resolveHostPath(long.source, baseDir);
      return long;
    });
  }
  return out;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = key in out ? deepMerge(out[key], value) : value;
    return out;
  }
  return over;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function appendUnique(base: unknown, over: unknown): unknown[] {
  const out = [...((base as unknown[] | undefined) ?? [])];
  const seen = new Set(out.map((item) => JSON.stringify(item)));
  for (const item of (over as unknown[] | undefined) ?? []) {
    if (!seen.has(JSON.stringify(item))) out.push(item);
    seen.add(JSON.stringify(item));
  }
  return out;
}

/** `over` (a later file, or the extending service) merged onto `base`; both canonical. */
export function mergeServices(base: RawService, over: RawService): RawService {
  const out: RawService = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (!(key in out)) out[key] = value;
    else if (SHALLOW_MAPS.has(key) && isPlainObject(out[key]) && isPlainObject(value)) out[key] = { ...out[key], ...value };
    else if (DEEP_MAPS.has(key)) out[key] = deepMerge(out[key], value);
    else if (APPENDED.has(key) && Array.isArray(out[key]) && Array.isArray(value)) out[key] = appendUnique(out[key], value);
    else if (key === "volumes" && Array.isArray(out[key]) && Array.isArray(value)) {
      const byTarget = new Map((out[key] as unknown[]).map((entry) => [volumeTarget(entry), entry]));
      for (const entry of value) byTarget.set(volumeTarget(entry), entry);
      out[key] = [...byTarget.values()];
    } else out[key] = value;
  }
  return out;
}
