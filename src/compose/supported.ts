/**
 * What throwaway implements of the Compose Specification. A key the schema allows but this table does not list is
 * refused with {@link ComposeUnsupportedError} naming it, never ignored. `x-` extension keys are always allowed.
 */
import { ComposeUnsupportedError } from "./errors.js";
import type { KeyPath } from "./schema-check.js";
import { formatPath } from "./schema-check.js";

/** A key's allowed sub-keys (`true`: anything below it). */
type Allowed = true | { [key: string]: Allowed };

const LEAF = true as const;

const SERVICE: Allowed = {
  image: LEAF,
  build: { context: LEAF, dockerfile: LEAF, args: LEAF, target: LEAF },
  command: LEAF,
  entrypoint: LEAF,
  environment: LEAF,
  env_file: LEAF,
  ports: LEAF,
  expose: LEAF,
  volumes: LEAF,
  tmpfs: LEAF,
  networks: LEAF,
  depends_on: LEAF,
  healthcheck: { test: LEAF, interval: LEAF, timeout: LEAF, retries: LEAF, start_period: LEAF, disable: LEAF },
  user: LEAF,
  working_dir: LEAF,
  hostname: LEAF,
  labels: LEAF,
  extra_hosts: LEAF,
  cap_add: LEAF,
  cap_drop: LEAF,
  ulimits: LEAF,
  shm_size: LEAF,
  deploy: { replicas: LEAF, resources: { limits: { cpus: LEAF, memory: LEAF } } },
  restart: LEAF,
  init: LEAF,
  stop_signal: LEAF,
  stop_grace_period: LEAF,
  scale: LEAF,
  profiles: LEAF,
  extends: LEAF,
  container_name: LEAF,
  pull_policy: LEAF,
  platform: LEAF,
};

const TOP: Allowed = {
  version: LEAF,
  name: LEAF,
  services: LEAF,
  networks: LEAF,
  volumes: LEAF,
};

const NETWORK: Allowed = { name: LEAF, external: LEAF, internal: LEAF, labels: LEAF, driver: LEAF, attachable: LEAF };
const VOLUME: Allowed = { name: LEAF, external: LEAF, labels: LEAF, driver: LEAF };

/** Sub-keys of a `volumes:` list item of a service, in long form. */
const SERVICE_VOLUME: Allowed = {
  type: LEAF,
  source: LEAF,
  target: LEAF,
  read_only: LEAF,
  bind: { create_host_path: LEAF },
  volume: { nocopy: LEAF },
  tmpfs: { size: LEAF },
};
const SERVICE_PORT: Allowed = { target: LEAF, published: LEAF, host_ip: LEAF, protocol: LEAF, mode: LEAF, name: LEAF };
const SERVICE_NETWORK: Allowed = { aliases: LEAF };
const DEPENDENCY: Allowed = { condition: LEAF, required: LEAF, restart: LEAF };

type Where = (path: KeyPath, atKey: boolean) => { file: string; line: number | undefined };

function walk(value: unknown, allowed: Allowed, path: KeyPath, where: Where): void {
  if (allowed === true || typeof value !== "object" || value === null || Array.isArray(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("x-")) continue;
    const sub = allowed[key];
    const keyPath = [...path, key];
    if (sub === undefined) {
      const { file, line } = where(keyPath, true);
      throw new ComposeUnsupportedError({ file, line, keyPath: formatPath(keyPath) }, key);
    }
    walk(item, sub, keyPath, where);
  }
}

/** Throws {@link ComposeUnsupportedError} for the first key of a file (already schema-checked) throwaway lacks. */
export function checkSupported(data: Record<string, unknown>, where: Where): void {
  walk(data, TOP, [], where);
  const each = (section: string, allowed: Allowed) => {
    for (const [name, item] of Object.entries((data[section] ?? {}) as Record<string, unknown>))
      walk(item, allowed, [section, name], where);
  };
  each("services", SERVICE);
  each("networks", NETWORK);
  each("volumes", VOLUME);
  for (const [name, service] of Object.entries((data.services ?? {}) as Record<string, Record<string, unknown> | null>)) {
    if (!service) continue;
    const base: KeyPath = ["services", name];
    for (const [i, v] of (Array.isArray(service.volumes) ? service.volumes : []).entries())
      walk(v, SERVICE_VOLUME, [...base, "volumes", i], where);
    for (const [i, p] of (Array.isArray(service.ports) ? service.ports : []).entries()) walk(p, SERVICE_PORT, [...base, "ports", i], where);
    if (service.networks && !Array.isArray(service.networks)) {
      for (const [net, config] of Object.entries(service.networks)) walk(config, SERVICE_NETWORK, [...base, "networks", net], where);
    }
    if (service.depends_on && !Array.isArray(service.depends_on)) {
      for (const [dep, config] of Object.entries(service.depends_on)) walk(config, DEPENDENCY, [...base, "depends_on", dep], where);
    }
  }
}
