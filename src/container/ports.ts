import type { ContainerInspect, PortBinding } from "../engine/types.js";

/** `"3306/tcp"` → host port. */
export type PortMap = Map<string, number>;

/**
 * Picks one host port per container port. When an engine publishes a port on both IPv4 and IPv6 it may give them
 * different host ports; the IPv4 binding wins, consistently, since that is what `127.0.0.1` and hostnames with an
 * A record reach.
 */
export function pickBinding(bindings: readonly PortBinding[]): number | undefined {
  const usable = bindings.filter((b) => b.HostPort && Number(b.HostPort) > 0);
  const ipv4 = usable.find((b) => !b.HostIp.includes(":"));
  const chosen = ipv4 ?? usable[0];
  return chosen ? Number(chosen.HostPort) : undefined;
}

/** Host ports by container port, declared ports first and in their declared order. */
export function mappedPorts(inspect: ContainerInspect, declared: readonly string[] = []): PortMap {
  const map: PortMap = new Map();
  const all = inspect.NetworkSettings.Ports ?? {};
  for (const key of [...declared, ...Object.keys(all)]) {
    const bindings = all[key];
    if (!bindings || map.has(key)) continue;
    const port = pickBinding(bindings);
    if (port !== undefined) map.set(key, port);
  }
  return map;
}

/** Declared ports the engine has not bound yet (some engines publish a moment after start). */
export function unboundPorts(inspect: ContainerInspect, declared: readonly string[]): string[] {
  const bound = mappedPorts(inspect, declared);
  return declared.filter((key) => !bound.has(key));
}
