import { env } from "../config.js";
import { normalizeDuration } from "../duration.js";
import type { ProgressListener, RegistryAuth } from "../engine/types.js";
import { InvalidOptionError } from "../errors.js";
import { normalizePlatform } from "../platform.js";
import { ImageName } from "./image-name.js";

/** Default build timeout: 10 minutes (`THROWAWAY_BUILD_TIMEOUT`, ms). */
export const DEFAULT_BUILD_TIMEOUT_MS = 600_000;

/** Everything `fromDockerfile(context, options)` accepts; each field also has a `with*` method. */
export interface DockerfileBuildOptions {
  /**
   * The Dockerfile: relative to the context directory, or absolute; it may lie outside the context. Default
   * `Dockerfile` (or `dockerfile`) in the context.
   */
  dockerfile?: string;
  /** `--build-arg` values, by name. Default none. */
  buildArgs?: Record<string, string | number | boolean>;
  /** The stage to stop at (`--target`). Default: the last stage. */
  target?: string;
  /** `os/arch[/variant]` to build for (`--platform`). Default: the engine's own. */
  platform?: string;
  /** Labels put on the image. Keys under `dev.throwaway.` are reserved. Default none. */
  labels?: Record<string, string>;
  /** Build every step afresh (`--no-cache`); also skips throwaway's own image cache. Default `false`. */
  noCache?: boolean;
  /** Pull newer versions of the `FROM` images (`--pull`); also skips throwaway's image cache. Default `false`. */
  pullBaseImages?: boolean;
  /**
   * Build with BuildKit (API `version=2`) instead of the classic builder. Default: on when the environment variable
   * `DOCKER_BUILDKIT` is `1`, as for the docker CLI, else off. Without a BuildKit session (which needs gRPC), the
   * engine cannot ask throwaway for registry credentials: `FROM` images on registries that need a login must already
   * be on the engine.
   */
  buildKit?: boolean;
  /** Milliseconds the build may take. Default 600000 (10 min); env `THROWAWAY_BUILD_TIMEOUT`. */
  timeoutMs?: number;
}

/** Options of one `build()` call. */
export interface BuildImageOptions {
  /**
   * Keep the image after the test run. Default: `true` when a tag was given, else `false` (the image carries the
   * session labels and is removed at teardown).
   */
  keep?: boolean;
  /** Receives every line of build output as a `build` event, as it arrives. */
  onProgress?: ProgressListener;
  /** Aborts the build (the engine stops it); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The options as the `with*` methods recorded them: checked only by {@link normalizeBuild}. */
export interface RawBuildOptions {
  context: string;
  dockerfile: string | undefined;
  buildArgs: Record<string, unknown>;
  target: unknown;
  platform: unknown;
  labels: Record<string, unknown>;
  noCache: unknown;
  pullBaseImages: unknown;
  buildKit: unknown;
  timeoutMs: unknown;
  registryAuth: Map<string, RegistryAuth>;
  queryModifiers: ((query: Record<string, unknown>) => void)[];
}

export interface NormalizedBuild {
  context: string;
  dockerfile: string | undefined;
  buildArgs: Record<string, string>;
  target: string | undefined;
  platform: string | undefined;
  labels: Record<string, string>;
  noCache: boolean;
  pullBaseImages: boolean;
  buildKit: boolean;
  timeoutMs: number;
  tag: ImageName | undefined;
  keep: boolean;
}

export function rawBuildOptions(context: string, options: string | DockerfileBuildOptions = {}): RawBuildOptions {
  const opts: DockerfileBuildOptions = typeof options === "string" ? { dockerfile: options } : (options ?? {});
  return {
    context,
    dockerfile: opts.dockerfile,
    buildArgs: { ...(opts.buildArgs ?? {}) },
    target: opts.target,
    platform: opts.platform,
    labels: { ...(opts.labels ?? {}) },
    noCache: opts.noCache,
    pullBaseImages: opts.pullBaseImages,
    buildKit: opts.buildKit,
    timeoutMs: opts.timeoutMs,
    registryAuth: new Map(),
    queryModifiers: [],
  };
}

/** Checks every recorded option once; the first bad one throws {@link InvalidOptionError}. */
export function normalizeBuild(raw: RawBuildOptions, tag: string | undefined, options: BuildImageOptions): NormalizedBuild {
  const buildArgs: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InvalidOptionError("withBuildArgs", "names of letters, digits and _ (not starting with a digit)", name);
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new InvalidOptionError(`withBuildArgs({ ${name} })`, "a string, number or boolean", value);
    }
    buildArgs[name] = String(value);
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.labels)) {
    if (key.startsWith("dev.throwaway.")) {
      throw new InvalidOptionError("withLabels", "keys outside the reserved `dev.throwaway.` namespace", key);
    }
    if (typeof value !== "string") throw new InvalidOptionError(`withLabels({ ${JSON.stringify(key)} })`, "a string", value);
    labels[key] = value;
  }
  if (raw.target !== undefined && (typeof raw.target !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw.target))) {
    throw new InvalidOptionError("withTarget", "the name of a stage (`FROM ... AS <name>`)", raw.target);
  }
  const platform = normalizePlatform("withPlatform", raw.platform);
  for (const [option, value] of [
    ["withNoCache", raw.noCache],
    ["withPullBaseImages", raw.pullBaseImages],
    ["withBuildKit", raw.buildKit],
  ] as const) {
    if (value !== undefined && typeof value !== "boolean") {
      throw new InvalidOptionError(
        option,
        option === "withPullBaseImages" ? "a boolean (or `always`/`missing` to withPullPolicy)" : "a boolean",
        value,
      );
    }
  }
  const timeoutMs =
    raw.timeoutMs === undefined ? env.buildTimeoutMs(DEFAULT_BUILD_TIMEOUT_MS) : normalizeDuration("withBuildTimeout", raw.timeoutMs);
  let parsedTag: ImageName | undefined;
  if (tag !== undefined) {
    parsedTag = ImageName.parse(tag, "build(tag)");
    if (parsedTag.digest) throw new InvalidOptionError("build(tag)", "a name with a tag, not a digest", tag);
  }
  if (options.keep !== undefined && typeof options.keep !== "boolean") {
    throw new InvalidOptionError("build({ keep })", "a boolean", options.keep);
  }
  return {
    context: raw.context,
    dockerfile: raw.dockerfile,
    buildArgs,
    target: raw.target as string | undefined,
    platform,
    labels,
    noCache: (raw.noCache as boolean | undefined) ?? false,
    pullBaseImages: (raw.pullBaseImages as boolean | undefined) ?? false,
    buildKit: (raw.buildKit as boolean | undefined) ?? process.env.DOCKER_BUILDKIT?.trim() === "1",
    timeoutMs,
    tag: parsedTag,
    keep: options.keep ?? tag !== undefined,
  };
}
