import type { WaitStrategy } from "../wait/strategy.js";
import type { CopyItem } from "./copy.js";
import type { HealthCheck, PortSpec, RawContainerOptions } from "./options.js";

/**
 * What a module sets for one start, returned by `GenericContainer.moduleDefaults()`. Each value is merged under what
 * the user recorded, in a copy made for that start: the builder is never changed, so concurrent `start()` calls on
 * one builder cannot see each other's defaults, and whatever the user set explicitly wins.
 *
 * Modules may add fields of their own (e.g. the settings their started type needs); they reach
 * `createStarted(state, defaults)` untouched.
 */
export interface ModuleDefaults {
  /** The image to run instead of the constructor's, e.g. one the module has just built. */
  image?: string;
  /** Environment variables; the user's `withEnvironment` values win key by key. */
  env?: Record<string, string | number | boolean>;
  /** Ports to expose, unless the user exposes the same container port and protocol. */
  exposedPorts?: PortSpec[];
  /** Used when the user set no `withCommand`. */
  command?: string[];
  /** Used when the user set no `withEntrypoint`. */
  entrypoint?: string[];
  /** Labels; the user's win key by key. */
  labels?: Record<string, string>;
  /** Copied before the user's copies, so a user copy to the same target wins. */
  copies?: CopyItem[];
  /** Used when the user set no `withWaitStrategy`. */
  waitStrategy?: WaitStrategy;
  /** Milliseconds; used when the user set no `withStartupTimeout`. */
  startupTimeoutMs?: number;
  /** Used when the user set no `withPlatform`. */
  platform?: string;
  /** Used when the user set no `withHealthCheck`. */
  healthCheck?: HealthCheck;
}

/** A copy of `raw` with `defaults` under it; neither argument is changed. */
export function mergeModuleDefaults(raw: RawContainerOptions, defaults: ModuleDefaults): RawContainerOptions {
  const userPorts = new Set(raw.exposedPorts.map(portKey));
  return {
    ...raw,
    image: defaults.image ?? raw.image,
    exposedPorts: [...(defaults.exposedPorts ?? []).filter((port) => !userPorts.has(portKey(port))), ...raw.exposedPorts],
    env: { ...defaults.env, ...raw.env },
    labels: { ...defaults.labels, ...raw.labels },
    command: raw.command ?? defaults.command,
    entrypoint: raw.entrypoint ?? defaults.entrypoint,
    copies: [...(defaults.copies ?? []), ...raw.copies],
    waitStrategy: raw.waitStrategy ?? defaults.waitStrategy,
    startupTimeoutMs: raw.startupTimeoutMs ?? defaults.startupTimeoutMs,
    platform: raw.platform ?? defaults.platform,
    healthCheck: raw.healthCheck ?? defaults.healthCheck,
    // Everything below is the builder's own array or map: copied so that normalisation never hands the builder's
    // objects to a start that may outlive a later `with*` call.
    networks: [...raw.networks],
    networkAliases: [...raw.networkAliases],
    bindMounts: [...raw.bindMounts],
    tmpfs: { ...raw.tmpfs },
    extraHosts: [...raw.extraHosts],
    capAdd: [...raw.capAdd],
    capDrop: [...raw.capDrop],
    createModifiers: [...raw.createModifiers],
    ulimits: { ...raw.ulimits },
    securityOpt: [...raw.securityOpt],
    archives: [...raw.archives],
  };
}

/** `"3306/tcp"` for every way of writing that port; anything unreadable keys as itself (normalisation rejects it). */
function portKey(spec: unknown): string {
  if (typeof spec === "number") return `${spec}/tcp`;
  if (typeof spec === "string") return /\/(tcp|udp)$/.test(spec) ? spec : `${spec}/tcp`;
  if (typeof spec === "object" && spec !== null) {
    const { container, protocol } = spec as { container?: unknown; protocol?: unknown };
    return `${String(container)}/${typeof protocol === "string" ? protocol : "tcp"}`;
  }
  return String(spec);
}
