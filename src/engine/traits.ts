import type { EngineEndpoint } from "./discovery.js";

/**
 * What kind of engine this is and what it can do, for the few places where engines differ (and for tests that must
 * skip what an engine cannot do). Read once per engine from `/version` and `/info`: never on a container's start.
 */
export interface EngineTraits {
  /** `docker` (dockerd, Docker Desktop, rootless Docker) or `podman` (Podman's Docker-compatible API). */
  product: "docker" | "podman";
  /** The engine's own version, e.g. `20.10.24` or `4.3.1`. */
  version: string;
  /**
   * The engine runs on another machine (a `tcp://`, `https://` or `ssh://` endpoint, even on 127.0.0.1, as
   * Docker-in-Docker is): the client's files, `/proc` and `127.0.0.1` are not the engine's. Bind mounts are refused there (the engine
   * would mount an empty folder of its own), and published ports are reached at the engine's address.
   */
  remote: boolean;
  /** The engine runs without root (rootless Docker, rootless Podman). */
  rootless: boolean;
  /**
   * Who runs HEALTHCHECKs. `engine`: the engine does and reports the status. `client`: the engine cannot be relied on
   * to run them (Podman runs them from systemd timers, so without systemd they never run), so
   * `Wait.forHealthCheck()` runs the check itself with exec, at the check's interval.
   */
  healthChecks: "engine" | "client";
  /** One line for messages: `Podman 4.3.1 (unix:///run/podman/podman.sock)`. */
  description: string;
}

/** The parts of `/version` this reads. */
export interface VersionAnswer {
  Version?: string;
  Components?: { Name?: string; Version?: string }[];
}

/** The parts of `/info` this reads. */
export interface InfoAnswer {
  SecurityOptions?: string[] | null;
}

/** The parts of Podman's own `/libpod/info` this reads: its Docker-compatible `/info` does not say rootless. */
export interface PodmanInfoAnswer {
  host?: { security?: { rootless?: boolean } };
}

/** True when `/version` names Podman's engine among its components. */
export function isPodman(version: VersionAnswer): boolean {
  return version.Components?.some((c) => /^podman/i.test(c.Name ?? "")) ?? false;
}

/**
 * Whether the engine is on another machine, from its endpoint alone (no engine call). Every `tcp://` and `ssh://`
 * engine counts, even on 127.0.0.1: that is a tunnel or a published port of an engine whose files and processes are
 * its machine's (Docker-in-Docker), not this one's.
 */
export function isRemoteEndpoint(endpoint: EngineEndpoint): boolean {
  return endpoint.kind === "tcp" || endpoint.kind === "ssh";
}

export function engineTraits(
  endpoint: EngineEndpoint,
  url: string,
  version: VersionAnswer,
  info: InfoAnswer,
  podmanInfo?: PodmanInfoAnswer,
): EngineTraits {
  const podman = version.Components?.find((c) => /^podman/i.test(c.Name ?? ""));
  const product = podman ? "podman" : "docker";
  const engineVersion = podman?.Version ?? version.Version ?? "unknown";
  const rootless =
    (info.SecurityOptions ?? []).some((option) => /(^|,)name=rootless(,|$)/.test(option)) || podmanInfo?.host?.security?.rootless === true;
  return {
    product,
    version: engineVersion,
    remote: isRemoteEndpoint(endpoint),
    rootless,
    healthChecks: healthChecksOf(product),
    description: `${product === "podman" ? "Podman" : "Docker"} ${engineVersion}${rootless ? " (rootless)" : ""} at ${url}`,
  };
}

/** Podman runs health checks from systemd timers, which a test machine or CI job rarely has: throwaway runs them. */
export function healthChecksOf(product: "docker" | "podman"): EngineTraits["healthChecks"] {
  return product === "podman" ? "client" : "engine";
}
