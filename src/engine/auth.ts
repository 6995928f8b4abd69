import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { debug } from "../debug.js";
import { InvalidOptionError, RegistryAuthError } from "../errors.js";
import type { RegistryAuth } from "./types.js";

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Where credentials are read from; tests point these at fixtures. */
export interface AuthSources {
  /** `DOCKER_AUTH_CONFIG`: a whole config.json as JSON text (CI secrets). */
  authConfigJson?: string | undefined;
  /** Path of the docker config file. Default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  configPath?: string;
  /** Extra directories searched for `docker-credential-*` helpers before PATH. */
  helperPath?: string;
}

// Docker Hub's credentials are stored under its legacy index URL by `docker login`.
const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];

function keysFor(registry: string): string[] {
  if (registry === "docker.io") return HUB_KEYS;
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

async function loadConfigs(sources: AuthSources): Promise<{ config: DockerConfig; origin: string }[]> {
  const configs: { config: DockerConfig; origin: string }[] = [];
  const inline = "authConfigJson" in sources ? sources.authConfigJson : process.env.DOCKER_AUTH_CONFIG;
  if (inline) {
    try {
      configs.push({ config: JSON.parse(inline) as DockerConfig, origin: "DOCKER_AUTH_CONFIG" });
    } catch {
      // Neither the text nor JSON.parse's message (which quotes it) may be shown: the variable holds credentials.
      throw new InvalidOptionError(
        "DOCKER_AUTH_CONFIG",
        "a docker config.json document (JSON)",
        `${inline.length} characters that are not JSON (not shown: they hold credentials)`,
      );
    }
  }
  const path = sources.configPath ?? join(process.env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
  try {
    configs.push({ config: JSON.parse(await readFile(path, "utf8")) as DockerConfig, origin: path });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") debug("auth", `ignoring unreadable ${path}: ${String(error)}`);
  }
  return configs;
}

/** Runs `docker-credential-<helper> get` with the registry on stdin, as the docker CLI does. */
export function runCredentialHelper(helper: string, registry: string, helperPath?: string): Promise<RegistryAuth | undefined> {
  const PATH = helperPath ? `${helperPath}:${process.env.PATH ?? ""}` : process.env.PATH;
  return new Promise((resolve, reject) => {
    const child = execFile(
      `docker-credential-${helper}`,
      ["get"],
      { env: { ...process.env, PATH }, timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error) {
          // Helpers say "credentials not found" with a non-zero exit; that just means "no credentials here".
          if (/not found/i.test(`${stdout}${stderr}`)) return resolve(undefined);
          return reject(
            new RegistryAuthError(
              `Credential helper docker-credential-${helper} failed for ${registry}: ${(stderr || error.message).trim()}`,
              { registry },
            ),
          );
        }
        try {
          const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string; ServerURL?: string };
          if (!parsed.Secret) return resolve(undefined);
          // `<token>` as the username marks an identity token, by the helpers' convention.
          resolve(
            parsed.Username === "<token>"
              ? { identitytoken: parsed.Secret, serveraddress: registry }
              : { username: parsed.Username ?? "", password: parsed.Secret, serveraddress: registry },
          );
        } catch {
          reject(
            new RegistryAuthError(`Credential helper docker-credential-${helper} printed something that is not JSON for ${registry}`, {
              registry,
            }),
          );
        }
      },
    );
    child.stdin?.end(registry);
  });
}

/**
 * Credentials for `registry` (`docker.io` for Docker Hub), looked up as the docker CLI does: `credHelpers` for that
 * registry, else `auths` entries, else the `credsStore`. `DOCKER_AUTH_CONFIG` is consulted before the file.
 */
export async function resolveAuth(registry: string, sources: AuthSources = {}): Promise<RegistryAuth | undefined> {
  for (const { config, origin } of await loadConfigs(sources)) {
    const helper = config.credHelpers?.[registry];
    if (helper) {
      const found = await runCredentialHelper(helper, registry, sources.helperPath);
      if (found) return found;
    }
    for (const key of keysFor(registry)) {
      const entry = config.auths?.[key];
      if (!entry) continue;
      if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: registry };
      if (entry.username && entry.password) return { username: entry.username, password: entry.password, serveraddress: registry };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const split = decoded.indexOf(":");
        if (split > 0) return { username: decoded.slice(0, split), password: decoded.slice(split + 1), serveraddress: registry };
        debug("auth", `ignoring malformed auth for ${key} in ${origin}`);
      }
      // An empty entry (`"auths": {"reg": {}}`) is what `docker login` leaves when a credsStore holds the secret.
    }
    if (config.credsStore) {
      for (const key of keysFor(registry).slice(0, 1)) {
        const found = await runCredentialHelper(config.credsStore, key, sources.helperPath);
        if (found) return { ...found, serveraddress: registry };
      }
    }
  }
  return undefined;
}
