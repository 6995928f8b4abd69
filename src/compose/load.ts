/**
 * Loads a compose project as Compose does: the project environment (`.env` or the given env files, then the
 * process environment, then values given in code), each file read, interpolated, checked against the schema and
 * against what throwaway supports, `extends` resolved, the files merged in order, every service normalised.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { debug } from "../debug.js";
import { DotenvProblem, parseDotenv } from "./dotenv.js";
import { ComposeFileError, type ComposeLocation } from "./errors.js";
import type { Lookup } from "./interpolate.js";
import { canonicalService, mergeServices, type RawService } from "./merge.js";
import { formatPath, type KeyPath } from "./schema-check.js";
import { normalizeService, type ServiceSpec } from "./service.js";
import { type ComposeSource, readComposeSource } from "./source.js";
import { checkSupported } from "./supported.js";

/** The file names Compose looks for in a folder, in its order; the first found wins. */
export const DEFAULT_COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

export interface LoadComposeOptions {
  /** The project folder: relative paths, `.env` and the default project name come from it. */
  dir: string;
  /** Compose files, relative to `dir` or absolute, merged in order. */
  files: readonly string[];
  /** Variables that win over the process environment and `.env` (`withEnvironment`). */
  environment?: Readonly<Record<string, string>>;
  /** Env files used instead of `<dir>/.env` (`withEnvironmentFile`), relative to `dir` or absolute. */
  envFiles?: readonly string[];
  /** The project name, over `COMPOSE_PROJECT_NAME`, the files' `name:` and the folder's name. */
  projectName?: string;
}

export interface ComposeNetworkSpec {
  /** The engine's name for it: `<project>_<key>` unless `name:` says otherwise. */
  name: string;
  external: boolean;
  internal: boolean;
  labels: Record<string, string>;
}

export interface ComposeVolumeSpec {
  name: string;
  external: boolean;
  labels: Record<string, string>;
}

export interface ComposeProject {
  name: string;
  dir: string;
  /** Absolute paths of the files, in merge order. */
  files: string[];
  /** Every service, in file order, profiles not applied yet. */
  services: Map<string, ServiceSpec>;
  networks: Map<string, ComposeNetworkSpec>;
  volumes: Map<string, ComposeVolumeSpec>;
  /** The project environment (for `COMPOSE_PROFILES` and friends). */
  env: Lookup;
}

/** Compose's rule: lower case, only letters, digits, `_` and `-`. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "");
}

function readEnvFile(path: string, display: string, outer: Lookup, required: boolean): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new ComposeFileError(
      { file: display, keyPath: "", line: undefined },
      `the env file cannot be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    return parseDotenv(text, outer);
  } catch (error) {
    if (!(error instanceof DotenvProblem)) throw error;
    throw new ComposeFileError({ file: display, keyPath: "", line: error.line }, error.message);
  }
}

/** Where each top-level key of a merged service came from, for errors about it. */
type Origins = Map<string, { source: ComposeSource; path: KeyPath }>;

export function loadComposeProject(options: LoadComposeOptions): ComposeProject {
  const dir = resolve(options.dir);
  if (options.files.length === 0) {
    throw new ComposeFileError({ file: dir, keyPath: "", line: undefined }, "no compose file given");
  }
  const given = options.environment ?? {};
  const processLookup: Lookup = (name) => given[name] ?? process.env[name];
  const fileValues = new Map<string, string>();
  const envFiles = options.envFiles && options.envFiles.length > 0 ? options.envFiles : [".env"];
  for (const file of envFiles) {
    const values = readEnvFile(
      resolve(dir, file),
      file,
      (name) => fileValues.get(name) ?? processLookup(name),
      options.envFiles !== undefined && options.envFiles.length > 0,
    );
    for (const [key, value] of values) fileValues.set(key, value);
  }
  const env: Lookup = (name) => processLookup(name) ?? fileValues.get(name);
  const unset = new Set<string>();
  const onUnset = (name: string) => unset.add(name);
  const cache = new Map<string, ComposeSource>();
  const read = (path: string): ComposeSource => {
    let source = cache.get(path);
    if (!source) {
      source = readComposeSource(path, dir, env, onUnset);
      const current = source;
      checkSupported(source.data, (keyPath, atKey) => ({ file: current.display, line: current.lineOf(keyPath, atKey) }));
      cache.set(path, source);
    }
    return source;
  };

  const paths = options.files.map((file) => resolve(dir, file));
  const sources = paths.map(read);
  const services = new Map<string, RawService>();
  const origins = new Map<string, Origins>();
  const definedIn = new Map<string, { source: ComposeSource; path: KeyPath }>();
  const networks: Record<string, Record<string, unknown>> = {};
  const volumes: Record<string, Record<string, unknown>> = {};
  let topName: string | undefined;

  for (const source of sources) {
    if (typeof source.data.name === "string") topName = source.data.name;
    for (const [key, value] of Object.entries((source.data.networks ?? {}) as Record<string, Record<string, unknown> | null>)) {
      networks[key] = { ...networks[key], ...(value ?? {}) };
    }
    for (const [key, value] of Object.entries((source.data.volumes ?? {}) as Record<string, Record<string, unknown> | null>)) {
      volumes[key] = { ...volumes[key], ...(value ?? {}) };
    }
    for (const name of Object.keys((source.data.services ?? {}) as Record<string, unknown>)) {
      const { service, origin } = resolveExtends(read, source, name, dir, new Set());
      const previous = services.get(name);
      services.set(name, previous ? mergeServices(previous, service) : service);
      const keys = origins.get(name) ?? new Map();
      for (const [key, where] of origin) keys.set(key, where);
      origins.set(name, keys);
      definedIn.set(name, { source, path: ["services", name] });
    }
  }
  if (services.size === 0) {
    const first = sources[0]!;
    throw new ComposeFileError({ file: first.display, keyPath: "services", line: first.lineOf(["services"]) }, "defines no services");
  }
  for (const name of unset) debug("compose", `the ${name} variable is not set: it is replaced by an empty string`);

  const name = normalizeProjectName(options.projectName ?? env("COMPOSE_PROJECT_NAME") ?? topName ?? basename(dir));
  if (name === "") {
    throw new ComposeFileError(
      { file: sources[0]!.display, keyPath: "name", line: sources[0]!.lineOf(["name"]) },
      "the project name is empty once reduced to a-z, 0-9, _ and -: set `name:` or withProjectName()",
    );
  }
  const declaredVolumes = new Set(Object.keys(volumes));
  const specs = new Map<string, ServiceSpec>();
  for (const [serviceName, raw] of services) {
    const keys = origins.get(serviceName)!;
    const fallback = definedIn.get(serviceName)!;
    const locate = (path: KeyPath, atKey = false): ComposeLocation => {
      const origin = (typeof path[0] === "string" ? keys.get(path[0]) : undefined) ?? fallback;
      const full = [...origin.path, ...path];
      return { file: origin.source.display, keyPath: formatPath(full), line: origin.source.lineOf(full, atKey) };
    };
    specs.set(serviceName, normalizeService(serviceName, raw, locate, env, declaredVolumes));
  }
  for (const spec of specs.values()) {
    const locate = (path: KeyPath) => {
      const origin = origins.get(spec.name)!.get(String(path[0])) ?? definedIn.get(spec.name)!;
      const full = [...origin.path, ...path];
      return { file: origin.source.display, keyPath: formatPath(full), line: origin.source.lineOf(full, true) };
    };
    for (const dependency of spec.dependsOn.keys()) {
      if (!specs.has(dependency)) {
        throw new ComposeFileError(
          locate(["depends_on", dependency]),
          `service ${spec.name} depends on ${dependency}, which the project does not define (it has ${[...specs.keys()].join(", ")})`,
        );
      }
    }
    for (const network of spec.networks.keys()) {
      if (network !== "default" && !(network in networks)) {
        throw new ComposeFileError(
          locate(["networks", network]),
          `the network ${JSON.stringify(network)} is not declared in the top-level \`networks:\``,
        );
      }
    }
  }
  const labelsOf = (value: unknown) =>
    Object.fromEntries(
      Object.entries(
        Array.isArray(value)
          ? Object.fromEntries(value.map((entry: string) => [entry.split("=")[0], entry.split("=").slice(1).join("=")]))
          : ((value ?? {}) as Record<string, unknown>),
      ).map(([k, v]) => [k, String(v ?? "")]),
    );
  const networkSpecs = new Map<string, ComposeNetworkSpec>();
  const usesDefault = [...specs.values()].some((spec) => spec.networks.has("default"));
  if (usesDefault && !networks.default) networks.default = {};
  for (const [key, value] of Object.entries(networks)) {
    if (value.driver !== undefined && value.driver !== "bridge") {
      const source = sources.find((s) => (s.data.networks as Record<string, unknown> | undefined)?.[key]) ?? sources[0]!;
      throw new ComposeFileError(
        { file: source.display, keyPath: `networks.${key}.driver`, line: source.lineOf(["networks", key, "driver"]) },
        `only the bridge driver is supported, got ${JSON.stringify(value.driver)}`,
      );
    }
    const external = value.external === true || value.external === "true";
    networkSpecs.set(key, {
      name: typeof value.name === "string" ? value.name : external ? key : `${name}_${key}`,
      external,
      internal: value.internal === true || value.internal === "true",
      labels: labelsOf(value.labels),
    });
  }
  const volumeSpecs = new Map<string, ComposeVolumeSpec>();
  for (const [key, value] of Object.entries(volumes)) {
    if (value.driver !== undefined && value.driver !== "local") {
      const source = sources.find((s) => (s.data.volumes as Record<string, unknown> | undefined)?.[key]) ?? sources[0]!;
      throw new ComposeFileError(
        { file: source.display, keyPath: `volumes.${key}.driver`, line: source.lineOf(["volumes", key, "driver"]) },
        `only the local driver is supported, got ${JSON.stringify(value.driver)}`,
      );
    }
    const external = value.external === true || value.external === "true";
    volumeSpecs.set(key, {
      name: typeof value.name === "string" ? value.name : external ? key : `${name}_${key}`,
      external,
      labels: labelsOf(value.labels),
    });
  }
  return { name, dir, files: paths, services: specs, networks: networkSpecs, volumes: volumeSpecs, env };
}

/** A service of `source` with its `extends` chain merged in (bases first), and where each key came from. */
function resolveExtends(
  read: (path: string) => ComposeSource,
  source: ComposeSource,
  name: string,
  projectDir: string,
  seen: Set<string>,
): { service: RawService; origin: Origins } {
  const services = (source.data.services ?? {}) as Record<string, RawService | null>;
  const raw = services[name];
  const path: KeyPath = ["services", name];
  if (raw === undefined)
    throw new ComposeFileError(
      { file: source.display, keyPath: "services", line: source.lineOf(["services"]) },
      `has no service ${JSON.stringify(name)} to extend`,
    );
  const id = `${source.path}#${name}`;
  if (seen.has(id))
    throw new ComposeFileError(
      { file: source.display, keyPath: formatPath([...path, "extends"]), line: source.lineOf([...path, "extends"]) },
      "`extends` makes a cycle",
    );
  seen.add(id);
  // Paths in the files given are relative to the project folder; in a file reached through `extends.file`, to that file's folder.
  const baseDir = cacheIsMain(source, projectDir) ? projectDir : dirname(source.path);
  const { extends: extension, ...own } = raw ?? {};
  const origin: Origins = new Map(Object.keys(own).map((key) => [key, { source, path }]));
  const service = canonicalService(own, baseDir);
  if (extension === undefined) return { service, origin };
  const target = typeof extension === "string" ? { service: extension } : (extension as { service: string; file?: string });
  const baseSource = target.file ? read(resolve(dirname(source.path), target.file)) : source;
  const base = resolveExtends(read, baseSource, target.service, projectDir, seen);
  for (const [key, where] of origin) base.origin.set(key, where);
  return { service: mergeServices(base.service, service), origin: base.origin };
}

/** Files in the project folder itself resolve relative paths from it, as the files given to Compose do. */
function cacheIsMain(source: ComposeSource, projectDir: string): boolean {
  return dirname(source.path) === projectDir;
}
