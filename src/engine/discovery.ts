import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { env } from "../config.js";
import { InvalidOptionError } from "../errors.js";

/** Where an engine may be reached. Pure data: connecting is the engine module's job. */
export type EngineEndpoint =
  | { kind: "unix"; source: string; socketPath: string }
  | { kind: "npipe"; source: string; socketPath: string }
  | {
      kind: "tcp";
      source: string;
      host: string;
      port: number;
      /** Paths of ca.pem, cert.pem, key.pem when TLS is on. */
      tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
    }
  | {
      kind: "ssh";
      source: string;
      host: string;
      /** The port in the URL; without one, ssh's config decides (22 by default). */
      port?: number;
      username?: string;
    };

/** What discovery reads of the world; tests pass fakes. */
export interface DiscoveryEnvironment {
  env: Record<string, string | undefined>;
  home: string;
  platform: NodeJS.Platform;
  uid: number | undefined;
  exists(path: string): boolean;
  readFile(path: string): string | undefined;
}

export function realDiscoveryEnvironment(): DiscoveryEnvironment {
  return {
    env: process.env,
    home: homedir(),
    platform: process.platform,
    uid: process.getuid?.(),
    exists: existsSync,
    readFile: (path) => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
  };
}

/** Turns a `DOCKER_HOST`-style URL into an endpoint; throws {@link InvalidOptionError} for what it cannot read. */
export function parseDockerHost(url: string, source: string, tls?: Extract<EngineEndpoint, { kind: "tcp" }>["tls"]): EngineEndpoint {
  const match = /^([a-z]+):\/\/(.*)$/i.exec(url.trim());
  if (!match) {
    throw new InvalidOptionError(source, "a URL such as `unix:///var/run/docker.sock` or `tcp://host:2376`", url);
  }
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (scheme === "unix") return { kind: "unix", source, socketPath: rest.startsWith("/") ? rest : `/${rest}` };
  if (scheme === "npipe") return { kind: "npipe", source, socketPath: rest.replaceAll("/", "\\") };
  if (scheme === "tcp" || scheme === "http" || scheme === "https") {
    const parsed = new URL(`http://${rest}`);
    // https:// means TLS even with no cert folder: the server is then verified against the system's CAs.
    const secureTls = tls ?? (scheme === "https" ? { verify: true } : undefined);
    const port = parsed.port ? Number(parsed.port) : secureTls ? 2376 : 2375;
    return { kind: "tcp", source, host: parsed.hostname.replace(/^\[|\]$/g, ""), port, ...(secureTls ? { tls: secureTls } : {}) };
  }
  if (scheme === "ssh") {
    const parsed = new URL(`ssh://${rest}`);
    return {
      kind: "ssh",
      source,
      host: parsed.hostname.replace(/^\[|\]$/g, ""),
      ...(parsed.port ? { port: Number(parsed.port) } : {}),
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    };
  }
  throw new InvalidOptionError(source, "a unix://, tcp://, npipe:// or ssh:// URL", url);
}

function dockerConfigDir(world: DiscoveryEnvironment): string {
  return world.env.DOCKER_CONFIG || join(world.home, ".docker");
}

/**
 * The endpoint of the active docker context (`DOCKER_CONTEXT`, else `currentContext` in config.json), read from the
 * CLI's meta store. `undefined` for the `default` context, which means "the usual socket".
 */
export function contextEndpoint(world: DiscoveryEnvironment): EngineEndpoint | undefined {
  const configDir = dockerConfigDir(world);
  let name = world.env.DOCKER_CONTEXT;
  let source = "DOCKER_CONTEXT";
  if (!name) {
    const config = world.readFile(join(configDir, "config.json"));
    if (config) {
      try {
        name = (JSON.parse(config) as { currentContext?: string }).currentContext;
        source = `docker context (currentContext in ${join(configDir, "config.json")})`;
      } catch {
        // A broken config.json is the CLI's problem to report; discovery moves on to the sockets.
      }
    }
  }
  if (!name || name === "default") return undefined;
  // The CLI names each context's folder by the sha256 of the context name.
  const id = createHash("sha256").update(name).digest("hex");
  const metaPath = join(configDir, "contexts", "meta", id, "meta.json");
  const meta = world.readFile(metaPath);
  if (!meta) {
    throw new InvalidOptionError(`${source} ${JSON.stringify(name)}`, "an existing docker context", name, {
      hint: `no ${metaPath}; run \`docker context ls\` to see the contexts, or unset DOCKER_CONTEXT`,
    });
  }
  const endpoint = (JSON.parse(meta) as { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } }).Endpoints?.docker;
  if (!endpoint?.Host) return undefined;
  const tlsDir = join(configDir, "contexts", "tls", id, "docker");
  const hasTls = world.exists(join(tlsDir, "ca.pem")) || world.exists(join(tlsDir, "cert.pem"));
  const tls = hasTls
    ? { ca: join(tlsDir, "ca.pem"), cert: join(tlsDir, "cert.pem"), key: join(tlsDir, "key.pem"), verify: !endpoint.SkipTLSVerify }
    : undefined;
  return parseDockerHost(endpoint.Host, `docker context ${JSON.stringify(name)}`, tls);
}

const isSet = (value: string | undefined) => value !== undefined && value !== "" && value !== "0";

/**
 * TLS for `DOCKER_HOST`, as the docker CLI reads it: `DOCKER_TLS_VERIFY` turns TLS on and verifies the server,
 * `DOCKER_TLS` turns it on without verifying; client certificates and the CA come from `DOCKER_CERT_PATH` (default
 * `~/.docker`), each used when its file exists. An `https://` URL always means TLS, verified unless `DOCKER_TLS`
 * alone asks otherwise.
 */
function tlsFromEnv(world: DiscoveryEnvironment, dockerHost: string): Extract<EngineEndpoint, { kind: "tcp" }>["tls"] {
  const verify = isSet(world.env.DOCKER_TLS_VERIFY);
  const insecure = !verify && isSet(world.env.DOCKER_TLS);
  if (!verify && !insecure && !/^https:\/\//i.test(dockerHost.trim())) return undefined;
  const certPath = world.env.DOCKER_CERT_PATH || dockerConfigDir(world);
  return { ca: join(certPath, "ca.pem"), cert: join(certPath, "cert.pem"), key: join(certPath, "key.pem"), verify: !insecure };
}

/**
 * Every place an engine may answer, in the order they are tried. An explicit `DOCKER_HOST` or context is the user's
 * choice, so it comes first; the well-known sockets follow only when they exist on disk.
 */
export function engineCandidates(world: DiscoveryEnvironment = realDiscoveryEnvironment()): EngineEndpoint[] {
  const candidates: EngineEndpoint[] = [];
  const dockerHost = world.env.DOCKER_HOST;
  if (dockerHost) {
    candidates.push(parseDockerHost(dockerHost, "DOCKER_HOST", tlsFromEnv(world, dockerHost)));
  } else {
    const fromContext = contextEndpoint(world);
    if (fromContext) candidates.push(fromContext);
  }

  if (world.platform === "win32") {
    candidates.push({ kind: "npipe", source: "default named pipe", socketPath: "//./pipe/docker_engine" });
    return candidates;
  }
  const sockets: [string, string | undefined][] = [
    ["default socket", "/var/run/docker.sock"],
    ["rootless socket", world.env.XDG_RUNTIME_DIR ? join(world.env.XDG_RUNTIME_DIR, "docker.sock") : undefined],
    ["rootless socket", world.uid !== undefined ? `/run/user/${world.uid}/docker.sock` : undefined],
    ["Docker Desktop socket", join(world.home, ".docker", "run", "docker.sock")],
    ["Docker Desktop socket", join(world.home, ".docker", "desktop", "docker.sock")],
    ["Podman socket", world.env.XDG_RUNTIME_DIR ? join(world.env.XDG_RUNTIME_DIR, "podman", "podman.sock") : undefined],
    ["Podman socket", "/run/podman/podman.sock"],
  ];
  const seen = new Set(candidates.map(endpointUrl));
  for (const [source, path] of sockets) {
    if (!path || seen.has(`unix://${path}`)) continue;
    seen.add(`unix://${path}`);
    if (world.exists(path)) candidates.push({ kind: "unix", source, socketPath: path });
  }
  return candidates;
}

/** `unix:///var/run/docker.sock`, `tcp://host:2376`: how endpoints are named in messages. */
export function endpointUrl(endpoint: EngineEndpoint): string {
  switch (endpoint.kind) {
    case "unix":
      return `unix://${endpoint.socketPath}`;
    case "npipe":
      return `npipe://${endpoint.socketPath}`;
    case "tcp":
      return `tcp://${endpoint.host}:${endpoint.port}`;
    case "ssh":
      return `ssh://${endpoint.username ? `${endpoint.username}@` : ""}${endpoint.host}${endpoint.port !== undefined ? `:${endpoint.port}` : ""}`;
  }
}

/**
 * The host that tests connect to for published ports. For a local socket this is the IPv4 loopback literal, not
 * `localhost`: `localhost` may resolve to ::1 first, and ports are published on 127.0.0.1 only (see
 * `publishHostIp`), so one address serves every client without family surprises.
 */
export function containerHost(endpoint: EngineEndpoint, override: string | undefined = env.hostOverride()): string {
  if (override) return override;
  if (endpoint.kind === "tcp" || endpoint.kind === "ssh") return endpoint.host;
  return "127.0.0.1";
}

/**
 * Whether the engine runs on this machine, sharing its files, process view and 127.0.0.1: the one place that tells
 * local engines from remote ones. A unix socket or named pipe is local; tcp:// and ssh:// engines count as remote
 * even on 127.0.0.1 (what they publish and mount is the engine's machine's business).
 */
export function isLocalEndpoint(endpoint: EngineEndpoint): boolean {
  return endpoint.kind === "unix" || endpoint.kind === "npipe";
}

/**
 * The host IP ports are published on. Local engines publish on loopback only: nothing is exposed to the network, and
 * there is a single binding per port, so IPv4 and IPv6 can never map one container port to two host ports.
 */
export function publishHostIp(endpoint: EngineEndpoint): string {
  return isLocalEndpoint(endpoint) ? "127.0.0.1" : "";
}
