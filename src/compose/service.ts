/**
 * A merged service definition turned into the typed form containers are built from: durations in ms, sizes in
 * bytes, ports and volumes parsed from every short and long form, environment resolved (env_file, then
 * `environment`, bare keys from the project environment).
 */
import { readFileSync } from "node:fs";
import { DotenvProblem, parseDotenv } from "./dotenv.js";
import { ComposeFileError, type ComposeLocation, ComposeUnsupportedError } from "./errors.js";
import type { Lookup } from "./interpolate.js";
import type { RawService } from "./merge.js";
import type { KeyPath } from "./schema-check.js";

export type DependencyCondition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface PortMapping {
  container: number;
  protocol: "tcp" | "udp";
  /** Fixed host port; undefined for a random one. */
  host: number | undefined;
}

export type ServiceMount =
  | {
      type: "volume" /** The name in the file's top-level `volumes:`; undefined for an anonymous volume. */;
      source: string | undefined;
      target: string;
      readOnly: boolean;
    }
  | { type: "bind"; source: string; target: string; readOnly: boolean }
  | { type: "tmpfs"; target: string; options: string };

export interface ServiceHealthcheck {
  /** Engine form: `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]` (disabled). */
  test: string[] | undefined;
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface ServiceSpec {
  name: string;
  image: string | undefined;
  build: { context: string; dockerfile?: string; args: Record<string, string>; target?: string } | undefined;
  command: string[] | undefined;
  entrypoint: string[] | undefined;
  environment: Record<string, string>;
  ports: PortMapping[];
  /** `80/tcp`: exposed to other containers, not published. */
  expose: string[];
  mounts: ServiceMount[];
  /** Network name in the file (`default` unless the service names others) → aliases. */
  networks: Map<string, string[]>;
  dependsOn: Map<string, { condition: DependencyCondition; required: boolean }>;
  healthcheck: ServiceHealthcheck | undefined;
  user: string | undefined;
  workingDir: string | undefined;
  hostname: string | undefined;
  containerName: string | undefined;
  labels: Record<string, string>;
  extraHosts: { host: string; ipAddress: string }[];
  capAdd: string[];
  capDrop: string[];
  ulimits: { Name: string; Soft: number; Hard: number }[];
  shmSizeBytes: number | undefined;
  memoryBytes: number | undefined;
  cpus: number | undefined;
  init: boolean | undefined;
  stopSignal: string | undefined;
  stopGraceMs: number | undefined;
  replicas: number;
  profiles: string[];
  pullPolicy: "missing" | "always" | undefined;
  platform: string | undefined;
  /** `restart:` as given: ignored (throwaway containers are not restarted), noted in the debug log. */
  restart: string | undefined;
}

/** Where a key of this service is: the file that last set it, and its line there. */
export type Locate = (path: KeyPath, atKey?: boolean) => ComposeLocation;

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Go-style durations as Compose writes them: `1m30s`, `500ms`, `1.5s`. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    consumed = part.lastIndex;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

/** `64m`, `1g`, `512kb`, `1.5GiB` or a number of bytes. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  return match ? Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!) : undefined;
}

/** Splits a command string as Compose does (POSIX shell words: quotes and backslashes, no expansion). */
export function splitShellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word = (word ?? "") + c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word = (word ?? "") + text[++i];
      else word = (word ?? "") + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function portRange(text: string): [number, number] | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) return undefined;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  return isPort(from) && isPort(to) && to >= from ? [from, to] : undefined;
}

const LOCAL_HOST_IPS = new Set(["127.0.0.1", "0.0.0.0", "::", "[::]", ""]);

/** Every short and long `ports` form; published ranges are paired with target ranges of the same length. */
export function parsePorts(entries: unknown[], locate: Locate): PortMapping[] {
  const out: PortMapping[] = [];
  entries.forEach((entry, index) => {
    const here = locate(["ports", index]);
    const bad = (why: string) => new ComposeFileError(here, `${JSON.stringify(entry)} is not a port mapping: ${why}`);
    let hostIp = "";
    let published: string;
    let target: string;
    let protocol = "tcp";
    if (typeof entry === "number") {
      published = "";
      target = String(entry);
    } else if (typeof entry === "string") {
      let text = entry.trim();
      const slash = text.lastIndexOf("/");
      if (slash !== -1) {
        protocol = text.slice(slash + 1);
        text = text.slice(0, slash);
      }
      const parts = text.split(":");
      if (parts.length > 3) throw bad("expected [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]");
      target = parts.at(-1)!;
      published = parts.length >= 2 ? parts.at(-2)! : "";
      hostIp = parts.length === 3 ? parts[0]! : "";
    } else {
      const long = entry as { target?: unknown; published?: unknown; host_ip?: unknown; protocol?: unknown };
      target = String(long.target ?? "");
      published = long.published === undefined ? "" : String(long.published);
      hostIp = long.host_ip === undefined ? "" : String(long.host_ip);
      protocol = long.protocol === undefined ? "tcp" : String(long.protocol);
    }
    if (protocol !== "tcp" && protocol !== "udp") throw bad(`protocol must be tcp or udp, got ${JSON.stringify(protocol)}`);
    if (!LOCAL_HOST_IPS.has(hostIp)) {
      throw new ComposeUnsupportedError(here, `host_ip ${hostIp}`, "ports are published on the engine's loopback address only");
    }
    const targets = portRange(target);
    if (!targets) throw bad(`the container port ${JSON.stringify(target)} must be a port 1-65535 or a range like 8000-8010`);
    const hosts = published === "" ? undefined : portRange(published);
    if (published !== "" && !hosts) throw bad(`the host port ${JSON.stringify(published)} must be a port 1-65535 or a range`);
    const count = targets[1] - targets[0] + 1;
    if (hosts && hosts[1] - hosts[0] + 1 !== count) {
      throw new ComposeUnsupportedError(
        here,
        `ports ${JSON.stringify(entry)}`,
        "a host port range must have as many ports as the container range",
      );
    }
    for (let i = 0; i < count; i++) {
      out.push({ container: targets[0] + i, protocol, host: hosts ? hosts[0] + i : undefined });
    }
  });
  return out;
}

/** Every short and long `volumes` form of a service. */
export function parseMounts(entries: unknown[], locate: Locate, declaredVolumes: ReadonlySet<string>): ServiceMount[] {
  return entries.map((entry, index): ServiceMount => {
    const here = locate(["volumes", index]);
    const checkNamed = (name: string) => {
      if (!declaredVolumes.has(name)) {
        throw new ComposeFileError(here, `the named volume ${JSON.stringify(name)} is not declared in the top-level \`volumes:\``);
      }
    };
    if (typeof entry === "string") {
      const parts = entry.split(":");
      if (parts.length === 1) return { type: "volume", source: undefined, target: parts[0]!, readOnly: false };
      const [source, target, mode = "rw"] = parts as [string, string, string?];
      const modes = mode.split(",");
      const unknown = modes.find((m) => !["rw", "ro", "z", "Z", "nocopy", "cached", "delegated", "consistent"].includes(m));
      if (parts.length > 3 || unknown !== undefined) {
        throw new ComposeFileError(here, `${JSON.stringify(entry)} is not SOURCE:TARGET[:MODE] (MODE: ro or rw)`);
      }
      const readOnly = modes.includes("ro");
      if (source.startsWith("/")) return { type: "bind", source, target, readOnly };
      checkNamed(source);
      return { type: "volume", source, target, readOnly };
    }
    const long = entry as { type: string; source?: string; target?: string; read_only?: boolean; tmpfs?: { size?: unknown } };
    const target = long.target;
    if (!target) throw new ComposeFileError(here, "a long-form volume needs `target`");
    if (long.type === "tmpfs") {
      const size = long.tmpfs?.size === undefined ? undefined : parseSize(long.tmpfs.size);
      return { type: "tmpfs", target, options: size === undefined ? "" : `size=${size}` };
    }
    if (long.type === "bind") {
      if (!long.source) throw new ComposeFileError(here, "a bind mount needs `source`");
      return { type: "bind", source: long.source, target, readOnly: long.read_only === true };
    }
    if (long.type === "volume") {
      if (long.source) checkNamed(long.source);
      return { type: "volume", source: long.source || undefined, target, readOnly: long.read_only === true };
    }
    throw new ComposeUnsupportedError(here, `volumes type ${long.type}`);
  });
}

function stringMap(value: unknown): Record<string, unknown> {
  return (value ?? {}) as Record<string, unknown>;
}

function command(value: unknown, key: string, locate: Locate): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  const words = splitShellWords(String(value));
  if (!words) throw new ComposeFileError(locate([key]), `${JSON.stringify(value)} has an unclosed quote`);
  return words;
}

function requiredDuration(value: unknown, path: KeyPath, locate: Locate): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new ComposeFileError(locate(path), `${JSON.stringify(value)} is not a duration such as 10s, 1m30s or 500ms`);
  return ms;
}

function requiredSize(value: unknown, path: KeyPath, locate: Locate): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSize(value);
  if (bytes === undefined)
    throw new ComposeFileError(locate(path), `${JSON.stringify(value)} is not a size such as 64m, 1g or a number of bytes`);
  return bytes;
}

function integer(value: unknown, path: KeyPath, locate: Locate, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
    throw new ComposeFileError(locate(path), `${JSON.stringify(value)} must be a whole number of at least ${min}`);
  }
  return n;
}

function bool(value: unknown, path: KeyPath, locate: Locate): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw new ComposeFileError(locate(path), `${JSON.stringify(value)} must be true or false`);
}

/** Builds one service's typed form. `env` resolves bare `environment` keys; `declaredVolumes` are the top-level names. */
export function normalizeService(
  name: string,
  raw: RawService,
  locate: Locate,
  env: Lookup,
  declaredVolumes: ReadonlySet<string>,
): ServiceSpec {
  if (raw.image === undefined && raw.build === undefined) {
    throw new ComposeFileError(locate([], true), `service ${name} needs \`image\` or \`build\``);
  }
  const environment: Record<string, string> = {};
  ((raw.env_file ?? []) as { path: string; required?: boolean }[]).forEach((file, index) => {
    let text: string;
    try {
      text = readFileSync(file.path, "utf8");
    } catch (error) {
      if (file.required === false) return;
      throw new ComposeFileError(
        locate(["env_file", index]),
        `the env_file ${file.path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    try {
      for (const [key, value] of parseDotenv(text, env)) environment[key] = value;
    } catch (error) {
      if (!(error instanceof DotenvProblem)) throw error;
      throw new ComposeFileError({ file: file.path, keyPath: "", line: error.line }, error.message);
    }
  });
  for (const [key, value] of Object.entries(stringMap(raw.environment))) {
    if (value === null || value === undefined) {
      const fromEnv = env(key);
      if (fromEnv !== undefined) environment[key] = fromEnv;
    } else environment[key] = String(value);
  }
  const build = raw.build as { context: string; dockerfile?: string; args?: Record<string, unknown>; target?: string } | undefined;
  const buildArgs: Record<string, string> = {};
  for (const [key, value] of Object.entries(build?.args ?? {})) {
    const resolved = value === null ? env(key) : String(value);
    if (resolved !== undefined) buildArgs[key] = resolved;
  }
  const networks = new Map<string, string[]>();
  for (const [network, config] of Object.entries(stringMap(raw.networks))) {
    networks.set(network, ((config as { aliases?: string[] } | null)?.aliases ?? []).map(String));
  }
  if (networks.size === 0) networks.set("default", []);
  const dependsOn = new Map<string, { condition: DependencyCondition; required: boolean }>();
  for (const [dependency, config] of Object.entries(stringMap(raw.depends_on))) {
    const c = (config ?? {}) as { condition?: DependencyCondition; required?: boolean };
    dependsOn.set(dependency, { condition: c.condition ?? "service_started", required: c.required !== false });
  }
  const health = raw.healthcheck as Record<string, unknown> | undefined;
  let healthcheck: ServiceHealthcheck | undefined;
  if (health) {
    const disabled = bool(health.disable, ["healthcheck", "disable"], locate) === true;
    let test: string[] | undefined;
    if (disabled) test = ["NONE"];
    else if (typeof health.test === "string") test = ["CMD-SHELL", health.test];
    else if (Array.isArray(health.test)) test = health.test.map(String);
    if (!test) {
      throw new ComposeUnsupportedError(
        locate(["healthcheck"]),
        "healthcheck without test",
        "overriding only the timing of the image's own health check is not supported: give `test` too",
      );
    }
    if (!["CMD", "CMD-SHELL", "NONE"].includes(test[0]!)) {
      throw new ComposeFileError(
        locate(["healthcheck", "test"]),
        `a test list must start with CMD, CMD-SHELL or NONE, got ${JSON.stringify(test[0])}`,
      );
    }
    const interval = requiredDuration(health.interval, ["healthcheck", "interval"], locate);
    const timeout = requiredDuration(health.timeout, ["healthcheck", "timeout"], locate);
    const startPeriod = requiredDuration(health.start_period, ["healthcheck", "start_period"], locate);
    const retries = integer(health.retries, ["healthcheck", "retries"], locate, 1);
    healthcheck = {
      test,
      ...(interval !== undefined && !disabled ? { intervalMs: interval } : {}),
      ...(timeout !== undefined && !disabled ? { timeoutMs: timeout } : {}),
      ...(retries !== undefined && !disabled ? { retries } : {}),
      ...(startPeriod !== undefined && !disabled ? { startPeriodMs: startPeriod } : {}),
    };
  }
  const ulimits = Object.entries(stringMap(raw.ulimits)).map(([ulimit, value]) => {
    if (typeof value === "object" && value !== null) {
      const { soft, hard } = value as { soft: unknown; hard: unknown };
      return {
        Name: ulimit,
        Soft: integer(soft, ["ulimits", ulimit, "soft"], locate, 0)!,
        Hard: integer(hard, ["ulimits", ulimit, "hard"], locate, 0)!,
      };
    }
    const n = integer(value, ["ulimits", ulimit], locate, 0)!;
    return { Name: ulimit, Soft: n, Hard: n };
  });
  const deploy = raw.deploy as { replicas?: unknown; resources?: { limits?: { cpus?: unknown; memory?: unknown } } } | undefined;
  const limits = deploy?.resources?.limits;
  let cpus: number | undefined;
  if (limits?.cpus !== undefined) {
    cpus = Number(limits.cpus);
    if (!(cpus > 0))
      throw new ComposeFileError(
        locate(["deploy", "resources", "limits", "cpus"]),
        `${JSON.stringify(limits.cpus)} must be a positive number of CPUs`,
      );
  }
  const scale = integer(raw.scale, ["scale"], locate, 0);
  const replicas = integer(deploy?.replicas, ["deploy", "replicas"], locate, 0);
  if (scale !== undefined && replicas !== undefined && scale !== replicas) {
    throw new ComposeFileError(locate(["scale"]), `scale (${scale}) and deploy.replicas (${replicas}) disagree: keep one`);
  }
  const tmpfsMounts: ServiceMount[] = ((raw.tmpfs ?? []) as string[]).map((entry) => {
    const colon = entry.indexOf(":");
    return colon === -1
      ? { type: "tmpfs", target: entry, options: "" }
      : { type: "tmpfs", target: entry.slice(0, colon), options: entry.slice(colon + 1) };
  });
  const pullPolicy = raw.pull_policy as string | undefined;
  if (pullPolicy !== undefined && !["always", "missing", "if_not_present"].includes(pullPolicy)) {
    throw new ComposeUnsupportedError(locate(["pull_policy"]), `pull_policy ${pullPolicy}`, "only always, missing and if_not_present are");
  }
  const extraHosts = Object.entries(stringMap(raw.extra_hosts)).map(([host, ip]) => ({ host, ipAddress: String(ip ?? "") }));
  return {
    name,
    image: raw.image as string | undefined,
    build: build
      ? {
          context: build.context,
          args: buildArgs,
          ...(build.dockerfile !== undefined ? { dockerfile: build.dockerfile } : {}),
          ...(build.target !== undefined ? { target: build.target } : {}),
        }
      : undefined,
    command: command(raw.command, "command", locate),
    entrypoint: command(raw.entrypoint, "entrypoint", locate),
    environment,
    ports: parsePorts((raw.ports ?? []) as unknown[], locate),
    expose: ((raw.expose ?? []) as unknown[]).map((entry) => (String(entry).includes("/") ? String(entry) : `${entry}/tcp`)),
    mounts: [...parseMounts((raw.volumes ?? []) as unknown[], locate, declaredVolumes), ...tmpfsMounts],
    networks,
    dependsOn,
    healthcheck,
    user: raw.user === undefined ? undefined : String(raw.user),
    workingDir: raw.working_dir as string | undefined,
    hostname: raw.hostname as string | undefined,
    containerName: raw.container_name as string | undefined,
    labels: Object.fromEntries(Object.entries(stringMap(raw.labels)).map(([k, v]) => [k, String(v ?? "")])),
    extraHosts,
    capAdd: ((raw.cap_add ?? []) as string[]).map(String),
    capDrop: ((raw.cap_drop ?? []) as string[]).map(String),
    ulimits,
    shmSizeBytes: requiredSize(raw.shm_size, ["shm_size"], locate),
    memoryBytes: requiredSize(limits?.memory, ["deploy", "resources", "limits", "memory"], locate),
    cpus,
    init: bool(raw.init, ["init"], locate),
    stopSignal: raw.stop_signal as string | undefined,
    stopGraceMs: requiredDuration(raw.stop_grace_period, ["stop_grace_period"], locate),
    replicas: scale ?? replicas ?? 1,
    profiles: ((raw.profiles ?? []) as unknown[]).map(String),
    pullPolicy: pullPolicy === undefined ? undefined : pullPolicy === "always" ? "always" : "missing",
    platform: raw.platform as string | undefined,
    restart: raw.restart as string | undefined,
  };
}
