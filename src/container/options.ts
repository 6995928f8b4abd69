import { isAbsolute } from "node:path";
import { Readable } from "node:stream";
import { normalizeDuration } from "../duration.js";
import { InvalidOptionError } from "../errors.js";
import { ImageName } from "../image/image-name.js";
import { isPlatform, PLATFORM_EXPECTED } from "../platform.js";
import type { WaitStrategy } from "../wait/strategy.js";
import type { CopyItem } from "./copy.js";

/** A port to expose: `8080`, `"8080/tcp"`, `"53/udp"`, or a fixed binding `{ container: 8080, host: 18080 }`. */
export type PortSpec =
  | number
  | `${number}`
  | `${number}/tcp`
  | `${number}/udp`
  | { container: number; host?: number; protocol?: "tcp" | "udp" };

export interface BindMount {
  /** Absolute path on the engine's host. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  /** `rw` (default) or `ro`, optionally with SELinux `z`/`Z`. */
  mode?: "rw" | "ro" | "z" | "Z" | "ro,z" | "ro,Z" | "rw,z" | "rw,Z";
}

/**
 * A container health check. testcontainers' key names `interval`, `timeout` and `startPeriod` (also ms) are
 * accepted in place of `intervalMs`, `timeoutMs` and `startPeriodMs`; any other key is refused.
 */
export interface HealthCheck {
  /** `["CMD", "curl", "-f", "http://localhost"]`, `["CMD-SHELL", "..."]`, or a shell string. */
  test: string[] | string;
  /** Milliseconds between checks. Default: the engine's (30 s). */
  intervalMs?: number;
  /** Milliseconds one check may take. Default: the engine's (30 s). */
  timeoutMs?: number;
  /** Consecutive failures that make the container `unhealthy`. Default: the engine's (3). */
  retries?: number;
  /** Milliseconds after start when failures do not count. Default 0. */
  startPeriodMs?: number;
  /** testcontainers' name for `intervalMs` (ms). */
  interval?: number;
  /** testcontainers' name for `timeoutMs` (ms). */
  timeout?: number;
  /** testcontainers' name for `startPeriodMs` (ms). */
  startPeriod?: number;
}

export interface Resources {
  /** Memory limit in bytes. */
  memoryBytes?: number;
  /** CPU limit in CPUs, e.g. `0.5`. */
  cpus?: number;
}

export type PullPolicy = "missing" | "always";

/** A resource limit (`ulimit`): soft and hard values; `-1` means unlimited. */
export interface Ulimit {
  soft: number;
  hard: number;
}

/** A network for `withNetwork`: a {@link StartedNetwork} or anything with a name. */
export interface NetworkRef {
  getName(): string;
}

/** What the builder records, unvalidated: normalisation happens once, at `start()`. */
export interface RawContainerOptions {
  image: string;
  exposedPorts: unknown[];
  env: Record<string, unknown>;
  command: unknown;
  entrypoint: unknown;
  name: unknown;
  labels: Record<string, unknown>;
  workingDir: unknown;
  user: unknown;
  hostname: unknown;
  networks: NetworkRef[];
  networkMode: unknown;
  networkAliases: unknown[];
  bindMounts: unknown[];
  tmpfs: Record<string, unknown>;
  copies: CopyItem[];
  healthCheck: unknown;
  resources: unknown;
  shmSizeBytes: unknown;
  extraHosts: unknown[];
  capAdd: unknown[];
  capDrop: unknown[];
  privileged: boolean;
  platform: unknown;
  pullPolicy: unknown;
  startupTimeoutMs: unknown;
  waitStrategy: WaitStrategy | undefined;
  reuse: boolean;
  warmStart: boolean;
  createModifiers: ((options: Record<string, unknown>) => void)[];
  ulimits: Record<string, unknown>;
  securityOpt: unknown[];
  ipcMode: unknown;
  defaultLogDriver: boolean;
  autoRemove: unknown;
  archives: { tar: unknown; target: unknown }[];
}

export function emptyRawOptions(image: string): RawContainerOptions {
  return {
    image,
    exposedPorts: [],
    env: {},
    command: undefined,
    entrypoint: undefined,
    name: undefined,
    labels: {},
    workingDir: undefined,
    user: undefined,
    hostname: undefined,
    networks: [],
    networkMode: undefined,
    networkAliases: [],
    bindMounts: [],
    tmpfs: {},
    copies: [],
    healthCheck: undefined,
    resources: undefined,
    shmSizeBytes: undefined,
    extraHosts: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    platform: undefined,
    pullPolicy: undefined,
    startupTimeoutMs: undefined,
    waitStrategy: undefined,
    reuse: false,
    warmStart: false,
    createModifiers: [],
    ulimits: {},
    securityOpt: [],
    ipcMode: undefined,
    defaultLogDriver: false,
    autoRemove: undefined,
    archives: [],
  };
}

export interface NormalizedPort {
  container: number;
  protocol: "tcp" | "udp";
  /** Fixed host port, or undefined for a random one. */
  host: number | undefined;
}

export interface NormalizedOptions {
  image: ImageName;
  ports: NormalizedPort[];
  env: Record<string, string>;
  command: string[] | undefined;
  entrypoint: string[] | undefined;
  name: string | undefined;
  labels: Record<string, string>;
  workingDir: string | undefined;
  user: string | undefined;
  hostname: string | undefined;
  networks: NetworkRef[];
  networkMode: string | undefined;
  networkAliases: string[];
  binds: string[];
  tmpfs: Record<string, string>;
  copies: CopyItem[];
  healthCheck: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | undefined;
  memoryBytes: number | undefined;
  nanoCpus: number | undefined;
  shmSizeBytes: number | undefined;
  extraHosts: string[];
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  platform: string | undefined;
  pullPolicy: PullPolicy;
  startupTimeoutMs: number | undefined;
  waitStrategy: WaitStrategy | undefined;
  reuse: boolean;
  warmStart: boolean;
  createModifiers: ((options: Record<string, unknown>) => void)[];
  ulimits: { Name: string; Soft: number; Hard: number }[];
  securityOpt: string[];
  ipcMode: string | undefined;
  defaultLogDriver: boolean;
  /** What `stop()` does when not told: remove (default) or keep the stopped container. */
  autoRemove: boolean;
  /** Tar archives extracted into existing directories before start, one Engine API call each. */
  archives: { tar: Buffer | Readable; target: string }[];
}

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const CAPABILITY = /^(?:CAP_)?[A-Z_]+$|^ALL$/;
const MS_TO_NS = 1_000_000;

function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

export function normalizePort(spec: unknown): NormalizedPort {
  const option = "withExposedPorts";
  const expected = 'a port 1-65535, `"8080/tcp"`, `"53/udp"` or `{ container, host?, protocol? }`';
  if (typeof spec === "number") {
    if (!isPort(spec)) throw new InvalidOptionError(option, expected, spec);
    return { container: spec, protocol: "tcp", host: undefined };
  }
  if (typeof spec === "string") {
    const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec.trim());
    const port = match ? Number(match[1]) : Number.NaN;
    if (!match || !isPort(port)) throw new InvalidOptionError(option, expected, spec);
    return { container: port, protocol: (match[2] as "tcp" | "udp" | undefined) ?? "tcp", host: undefined };
  }
  if (typeof spec === "object" && spec !== null) {
    const { container, host, protocol } = spec as { container?: unknown; host?: unknown; protocol?: unknown };
    if (!isPort(container)) throw new InvalidOptionError(`${option}({ container })`, "a port 1-65535", container);
    if (host !== undefined && !isPort(host)) throw new InvalidOptionError(`${option}({ host })`, "a port 1-65535", host);
    if (protocol !== undefined && protocol !== "tcp" && protocol !== "udp") {
      throw new InvalidOptionError(`${option}({ protocol })`, "`tcp` or `udp`", protocol);
    }
    return { container, protocol: (protocol as "tcp" | "udp" | undefined) ?? "tcp", host: host as number | undefined };
  }
  throw new InvalidOptionError(option, expected, spec);
}

function stringList(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new InvalidOptionError(option, "an array of strings (each array item is one argument; no shell splitting)", value);
  }
  return [...value];
}

function optionalString(option: string, value: unknown, check?: (v: string) => string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new InvalidOptionError(option, "a non-empty string", value);
  const problem = check?.(value);
  if (problem) throw new InvalidOptionError(option, problem, value);
  return value;
}

function duration(option: string, value: unknown, allowZero = false): number | undefined {
  return value === undefined ? undefined : normalizeDuration(option, value, { allowZero });
}

function absolutePath(option: string, value: unknown): string {
  if (typeof value !== "string" || !isAbsolute(value)) {
    throw new InvalidOptionError(option, "an absolute path", value, {
      hint: typeof value === "string" ? `resolve it first, e.g. path.resolve(${JSON.stringify(value)})` : undefined,
    });
  }
  return value;
}

function normalizeHealthCheck(value: unknown): NormalizedOptions["healthCheck"] {
  if (value === undefined) return undefined;
  const option = "withHealthCheck";
  if (typeof value !== "object" || value === null)
    throw new InvalidOptionError(option, "`{ test, intervalMs?, timeoutMs?, retries?, startPeriodMs? }`", value);
  const given = value as HealthCheck;
  const known = ["test", "intervalMs", "timeoutMs", "retries", "startPeriodMs", "interval", "timeout", "startPeriod"];
  const unknown = Object.keys(given).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw new InvalidOptionError(option, "`{ test, intervalMs?, timeoutMs?, retries?, startPeriodMs? }`", unknown, {
      hint: `\`${unknown}\` is not a health check setting`,
    });
  }
  // testcontainers' names (also ms) are accepted beside ours; both at once would be ambiguous.
  const alias = (ours: "intervalMs" | "timeoutMs" | "startPeriodMs", theirs: "interval" | "timeout" | "startPeriod") => {
    if (given[theirs] !== undefined && given[ours] !== undefined) {
      throw new InvalidOptionError(`${option}({ ${theirs} })`, `unset when \`${ours}\` is given (both are ms)`, given[theirs]);
    }
    return (given[ours] ?? given[theirs]) as number | undefined;
  };
  const check: HealthCheck = {
    test: given.test,
    intervalMs: alias("intervalMs", "interval"),
    timeoutMs: alias("timeoutMs", "timeout"),
    startPeriodMs: alias("startPeriodMs", "startPeriod"),
    ...(given.retries !== undefined ? { retries: given.retries } : {}),
  } as HealthCheck;
  let test: string[];
  if (typeof check.test === "string" && check.test.trim() !== "") test = ["CMD-SHELL", check.test];
  else if (Array.isArray(check.test) && check.test.length > 0 && check.test.every((t) => typeof t === "string")) {
    test = ["CMD", "CMD-SHELL", "NONE"].includes(check.test[0]!) ? [...check.test] : ["CMD", ...check.test];
  } else throw new InvalidOptionError(`${option}({ test })`, "a shell string or an array of strings", check.test);
  const interval = duration(`${option}({ intervalMs })`, check.intervalMs);
  const timeout = duration(`${option}({ timeoutMs })`, check.timeoutMs);
  const startPeriod = duration(`${option}({ startPeriodMs })`, check.startPeriodMs, true);
  if (check.retries !== undefined && (!Number.isInteger(check.retries) || check.retries < 1)) {
    throw new InvalidOptionError(`${option}({ retries })`, "a whole number of at least 1", check.retries);
  }
  // The engine refuses intervals under 1 ms; it takes nanoseconds.
  return {
    Test: test,
    ...(interval !== undefined ? { Interval: Math.max(1, interval) * MS_TO_NS } : {}),
    ...(timeout !== undefined ? { Timeout: Math.max(1, timeout) * MS_TO_NS } : {}),
    ...(check.retries !== undefined ? { Retries: check.retries } : {}),
    ...(startPeriod !== undefined ? { StartPeriod: startPeriod * MS_TO_NS } : {}),
  };
}

function normalizeUlimits(raw: Record<string, unknown>): NormalizedOptions["ulimits"] {
  return Object.entries(raw).map(([name, value]) => {
    const option = `withUlimits({ ${name} })`;
    if (!/^[a-z]+$/.test(name)) throw new InvalidOptionError("withUlimits", "ulimit names such as `nofile` or `nproc`", name);
    const { soft, hard } = (typeof value === "object" && value !== null ? value : {}) as { soft?: unknown; hard?: unknown };
    const limit = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= -1;
    if (!limit(soft) || !limit(hard)) throw new InvalidOptionError(option, "`{ soft, hard }`, whole numbers (-1 for unlimited)", value);
    const [s, h] = [soft as number, hard as number];
    if (h !== -1 && (s === -1 || s > h)) throw new InvalidOptionError(option, "a soft limit no greater than the hard one", value);
    return { Name: name, Soft: s, Hard: h };
  });
}

/**
 * The one normalisation pass: validates every recorded option, applies defaults, and throws
 * {@link InvalidOptionError} naming the option and quoting the value for the first problem found.
 */
export function normalizeContainerOptions(raw: RawContainerOptions): NormalizedOptions {
  const image = ImageName.parse(raw.image, "new GenericContainer(image)");
  const ports = raw.exposedPorts.map(normalizePort);
  const seen = new Set<string>();
  for (const port of ports) {
    const key = `${port.container}/${port.protocol}`;
    if (seen.has(key)) throw new InvalidOptionError("withExposedPorts", "each port once", key, { hint: "it is listed twice" });
    seen.add(key);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.env)) {
    if (key === "" || key.includes("=")) throw new InvalidOptionError("withEnvironment", "variable names without `=`", key);
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new InvalidOptionError(`withEnvironment({ ${key} })`, "a string (or number or boolean)", value);
    }
    env[key] = String(value);
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.labels)) {
    if (typeof value !== "string") throw new InvalidOptionError(`withLabels({ ${JSON.stringify(key)} })`, "a string", value);
    if (key.startsWith("dev.throwaway.")) {
      throw new InvalidOptionError("withLabels", "labels outside the reserved `dev.throwaway.` namespace", key);
    }
    labels[key] = value;
  }
  const name = optionalString("withName", raw.name, (v) => (NAME.test(v) ? undefined : "a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"));
  const networkMode = optionalString("withNetworkMode", raw.networkMode);
  if (networkMode && raw.networks.length > 0) {
    throw new InvalidOptionError("withNetworkMode", "unset when withNetwork is used", networkMode, {
      hint: "use one of withNetwork or withNetworkMode",
    });
  }
  const networkAliases = raw.networkAliases.map((alias) => {
    if (typeof alias !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(alias)) {
      throw new InvalidOptionError("withNetworkAliases", "host names ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", alias);
    }
    return alias;
  });
  if (
    networkAliases.length > 0 &&
    raw.networks.length === 0 &&
    (!networkMode || ["bridge", "host", "none", "default"].includes(networkMode))
  ) {
    throw new InvalidOptionError(
      "withNetworkAliases",
      "used together with withNetwork (aliases only resolve on user-defined networks)",
      networkAliases,
    );
  }
  const binds = raw.bindMounts.map((mount) => {
    const m = mount as BindMount;
    if (typeof m !== "object" || m === null) throw new InvalidOptionError("withBindMounts", "`{ source, target, mode? }`", mount);
    const source = absolutePath("withBindMounts({ source })", m.source);
    const target = absolutePath("withBindMounts({ target })", m.target);
    const mode: string = m.mode ?? "rw";
    if (!/^(rw|ro)?(,?[zZ])?$/.test(mode) || mode === "")
      throw new InvalidOptionError("withBindMounts({ mode })", "`rw`, `ro`, `z` or `Z`", m.mode);
    return `${source}:${target}:${mode}`;
  });
  const tmpfs: Record<string, string> = {};
  for (const [path, opts] of Object.entries(raw.tmpfs)) {
    absolutePath("withTmpFs", path);
    if (typeof opts !== "string")
      throw new InvalidOptionError(`withTmpFs({ ${JSON.stringify(path)} })`, "mount options as a string, e.g. `rw,size=64m`", opts);
    tmpfs[path] = opts;
  }
  for (const copy of raw.copies) {
    absolutePath("copy target", copy.target);
    for (const key of ["uid", "gid"] as const) {
      const id = copy[key];
      if (id !== undefined && (typeof id !== "number" || !Number.isInteger(id) || id < 0)) {
        throw new InvalidOptionError(`copy ${key} (${copy.target})`, "a non-negative whole number", id);
      }
    }
  }
  let memoryBytes: number | undefined;
  let nanoCpus: number | undefined;
  if (raw.resources !== undefined) {
    const r = raw.resources as Resources;
    if (r.memoryBytes !== undefined && (!Number.isInteger(r.memoryBytes) || r.memoryBytes < 6 * 1024 * 1024)) {
      throw new InvalidOptionError(
        "withResources({ memoryBytes })",
        "a whole number of bytes of at least 6 MiB (the engine's minimum)",
        r.memoryBytes,
      );
    }
    if (r.cpus !== undefined && (typeof r.cpus !== "number" || !(r.cpus > 0))) {
      throw new InvalidOptionError("withResources({ cpus })", "a positive number of CPUs, e.g. 0.5", r.cpus);
    }
    memoryBytes = r.memoryBytes;
    nanoCpus = r.cpus === undefined ? undefined : Math.round(r.cpus * 1e9);
  }
  const shmSizeBytes = raw.shmSizeBytes;
  if (shmSizeBytes !== undefined && (typeof shmSizeBytes !== "number" || !Number.isInteger(shmSizeBytes) || shmSizeBytes <= 0)) {
    throw new InvalidOptionError("withSharedMemorySize", "a positive whole number of bytes", shmSizeBytes);
  }
  const extraHosts = raw.extraHosts.map((entry) => {
    const e = entry as { host?: unknown; ipAddress?: unknown };
    if (typeof e?.host !== "string" || typeof e.ipAddress !== "string" || e.host === "" || e.ipAddress === "") {
      throw new InvalidOptionError(
        "withExtraHosts",
        "`{ host, ipAddress }` with non-empty strings (ipAddress may be `host-gateway`)",
        entry,
      );
    }
    return `${e.host}:${e.ipAddress}`;
  });
  const caps = (option: string, list: unknown[]) =>
    list.map((cap) => {
      if (typeof cap !== "string" || !CAPABILITY.test(cap))
        throw new InvalidOptionError(option, "capability names such as `NET_ADMIN`", cap);
      return cap;
    });
  const platform = optionalString("withPlatform", raw.platform, (v) => (isPlatform(v) ? undefined : PLATFORM_EXPECTED));
  const pullPolicy = raw.pullPolicy ?? "missing";
  if (pullPolicy !== "missing" && pullPolicy !== "always")
    throw new InvalidOptionError("withPullPolicy", "`missing` or `always`", raw.pullPolicy);
  const startupTimeoutMs = duration("withStartupTimeout", raw.startupTimeoutMs);
  const securityOpt = raw.securityOpt.map((opt) => {
    if (typeof opt !== "string" || !/^[a-z-]+([=:].+)?$/.test(opt)) {
      throw new InvalidOptionError("withSecurityOpt", "options such as `no-new-privileges` or `seccomp=unconfined`", opt);
    }
    return opt;
  });
  const ipcMode = optionalString("withIpcMode", raw.ipcMode, (v) =>
    /^(private|shareable|host|none|container:.+)$/.test(v) ? undefined : "`private`, `shareable`, `host`, `none` or `container:<name|id>`",
  );
  if (raw.autoRemove !== undefined && typeof raw.autoRemove !== "boolean") {
    throw new InvalidOptionError("withAutoRemove", "`true` or `false`", raw.autoRemove);
  }
  return {
    image,
    ports,
    env,
    command: stringList("withCommand", raw.command),
    entrypoint: stringList("withEntrypoint", raw.entrypoint),
    name: name?.replace(/^\//, ""),
    labels,
    workingDir: optionalString("withWorkingDir", raw.workingDir, (v) => (isAbsolute(v) ? undefined : "an absolute path")),
    user: optionalString("withUser", raw.user),
    hostname: optionalString("withHostname", raw.hostname),
    networks: [...raw.networks],
    networkMode,
    networkAliases,
    binds,
    tmpfs,
    copies: [...raw.copies],
    healthCheck: normalizeHealthCheck(raw.healthCheck),
    memoryBytes,
    nanoCpus,
    shmSizeBytes: shmSizeBytes as number | undefined,
    extraHosts,
    capAdd: caps("withAddedCapabilities", raw.capAdd),
    capDrop: caps("withDroppedCapabilities", raw.capDrop),
    privileged: raw.privileged,
    platform,
    pullPolicy,
    startupTimeoutMs,
    waitStrategy: raw.waitStrategy,
    reuse: raw.reuse,
    warmStart: raw.warmStart,
    createModifiers: [...raw.createModifiers],
    ulimits: normalizeUlimits(raw.ulimits),
    securityOpt,
    ipcMode,
    defaultLogDriver: raw.defaultLogDriver,
    autoRemove: raw.autoRemove ?? true,
    archives: raw.archives.map(({ tar, target }) => {
      if (!Buffer.isBuffer(tar) && !(tar instanceof Readable)) {
        throw new InvalidOptionError("withCopyArchivesToContainer({ tar })", "a tar archive as a Buffer or a Readable stream", tar);
      }
      return { tar, target: absolutePath("withCopyArchivesToContainer({ target })", target) };
    }),
  };
}

/** The Engine API create body for normalised options. Session labels are added by the caller. */
export function createBody(
  options: NormalizedOptions,
  image: string,
  publishHostIp: string,
  labels: Record<string, string>,
): Record<string, unknown> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of options.ports) {
    const key = `${port.container}/${port.protocol}`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: publishHostIp, HostPort: port.host === undefined ? "" : String(port.host) }];
  }
  const firstNetwork = options.networks[0];
  const body: Record<string, unknown> = {
    Image: image,
    Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...options.labels, ...labels },
    ExposedPorts: exposed,
    ...(options.command ? { Cmd: options.command } : {}),
    ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
    ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
    ...(options.user ? { User: options.user } : {}),
    ...(options.hostname ? { Hostname: options.hostname } : {}),
    ...(options.healthCheck ? { Healthcheck: options.healthCheck } : {}),
    HostConfig: {
      PortBindings: bindings,
      ...(options.binds.length ? { Binds: options.binds } : {}),
      ...(Object.keys(options.tmpfs).length ? { Tmpfs: options.tmpfs } : {}),
      ...(options.memoryBytes !== undefined ? { Memory: options.memoryBytes } : {}),
      ...(options.nanoCpus !== undefined ? { NanoCpus: options.nanoCpus } : {}),
      ...(options.shmSizeBytes !== undefined ? { ShmSize: options.shmSizeBytes } : {}),
      ...(options.extraHosts.length ? { ExtraHosts: options.extraHosts } : {}),
      ...(options.capAdd.length ? { CapAdd: options.capAdd } : {}),
      ...(options.capDrop.length ? { CapDrop: options.capDrop } : {}),
      ...(options.privileged ? { Privileged: true } : {}),
      ...(options.ulimits.length ? { Ulimits: options.ulimits } : {}),
      ...(options.securityOpt.length ? { SecurityOpt: options.securityOpt } : {}),
      ...(options.ipcMode ? { IpcMode: options.ipcMode } : {}),
      ...(options.defaultLogDriver ? { LogConfig: { Type: "json-file", Config: {} } } : {}),
      ...(firstNetwork ? { NetworkMode: firstNetwork.getName() } : options.networkMode ? { NetworkMode: options.networkMode } : {}),
    },
    ...(firstNetwork ? { NetworkingConfig: { EndpointsConfig: { [firstNetwork.getName()]: { Aliases: options.networkAliases } } } } : {}),
  };
  for (const modify of options.createModifiers) modify(body);
  return body;
}
