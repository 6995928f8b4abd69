import { getEngine } from "../engine/current.js";
import type { RegistryAuth } from "../engine/types.js";
import { InvalidOptionError } from "../errors.js";
import { type BuildResult, buildOnce, defaultName, lookupCache } from "./build-cache.js";
import {
  type BuildImageOptions,
  type DockerfileBuildOptions,
  normalizeBuild,
  type RawBuildOptions,
  rawBuildOptions,
} from "./build-options.js";
import { registryKey, sendBuild } from "./build-send.js";
import { type BuiltGenericContainer, BuiltImage } from "./built-image.js";
import { type ContainerFactory, registeredContainerFactory } from "./container-factory.js";

export type { BuildImageOptions, DockerfileBuildOptions } from "./build-options.js";
export { DEFAULT_BUILD_TIMEOUT_MS } from "./build-options.js";
export { type BuiltGenericContainer, BuiltImage, DEFAULT_PUSH_TIMEOUT_MS, type ImagePushOptions } from "./built-image.js";
export type { ContainerFactory } from "./container-factory.js";

/**
 * Describes an image to build from a Dockerfile, as `docker build` flags do; `build()` returns a
 * `GenericContainer` for it. Options are recorded raw and checked once, at `build()`.
 *
 * Builds are content-addressed: the image is labelled with a digest of the Dockerfile, the context as sent (after
 * `.dockerignore`) and the options, and when an image with that digest exists `build()` returns it at once, without
 * sending the context. Change a file and the next `build()` builds again.
 */
export class DockerfileBuilder {
  private readonly raw: RawBuildOptions;
  private readonly containerFactory: ContainerFactory | undefined;

  /**
   * @param context The build context directory.
   * @param options A Dockerfile path (as testcontainers takes it) or {@link DockerfileBuildOptions}.
   * @param containerFactory Makes the containers `build()` returns (`GenericContainer.fromDockerfile` passes
   *   one). Default: the one the container module registers when it loads.
   */
  constructor(context: string, options: string | DockerfileBuildOptions = {}, containerFactory?: ContainerFactory) {
    this.raw = rawBuildOptions(context, options);
    this.containerFactory = containerFactory;
  }

  /** The Dockerfile, relative to the context or absolute (it may lie outside the context). Default `Dockerfile`. */
  withDockerfile(path: string): this {
    this.raw.dockerfile = path;
    return this;
  }

  /** `--build-arg` values, merged over earlier calls. */
  withBuildArgs(args: Record<string, string | number | boolean>): this {
    Object.assign(this.raw.buildArgs, args);
    return this;
  }

  /** The stage to build (`--target`). Default: the last stage. */
  withTarget(stage: string): this {
    this.raw.target = stage;
    return this;
  }

  /** `os/arch[/variant]` to build for (`--platform`). Default: the engine's own. */
  withPlatform(platform: string): this {
    this.raw.platform = platform;
    return this;
  }

  /** Labels on the image, merged over earlier calls. Keys under `dev.throwaway.` are reserved. */
  withLabels(labels: Record<string, string>): this {
    Object.assign(this.raw.labels, labels);
    return this;
  }

  /** Builds every step afresh (`--no-cache`) and skips throwaway's image cache. Default off. */
  withNoCache(noCache = true): this {
    this.raw.noCache = noCache;
    return this;
  }

  /** testcontainers' spelling: `withCache(false)` is `withNoCache()`. */
  withCache(useCache = true): this {
    this.raw.noCache = !useCache;
    return this;
  }

  /** Pulls newer `FROM` images (`--pull`) and skips throwaway's image cache. Default off. */
  withPullBaseImages(pull = true): this {
    this.raw.pullBaseImages = pull;
    return this;
  }

  /** testcontainers' spelling: `always` is `withPullBaseImages()`, `missing` the default. */
  withPullPolicy(policy: "missing" | "always"): this {
    // Anything else is kept as given so build() names the bad value.
    this.raw.pullBaseImages = policy === "always" ? true : policy === "missing" ? false : policy;
    return this;
  }

  /**
   * Builds with BuildKit instead of the classic builder. Default: `DOCKER_BUILDKIT=1` turns it on. See
   * {@link DockerfileBuildOptions.buildKit} for what BuildKit cannot do without a session.
   */
  withBuildKit(enabled = true): this {
    this.raw.buildKit = enabled;
    return this;
  }

  /**
   * Credentials for a registry a `FROM` line pulls from (`docker.io` for Docker Hub). Registries not given here are
   * looked up as the docker CLI does.
   */
  withRegistryAuth(registry: string, auth: RegistryAuth): this {
    this.raw.registryAuth.set(registryKey(registry), auth);
    return this;
  }

  /** Milliseconds the build may take. Default 600000 (10 min); env `THROWAWAY_BUILD_TIMEOUT`. */
  withBuildTimeout(ms: number): this {
    this.raw.timeoutMs = ms;
    return this;
  }

  /**
   * Edits the Engine API `/build` query before it is sent, for options no `with*` method covers (e.g. `shmsize`,
   * `networkmode`, `cachefrom`). `buildargs` and `labels` are objects here; they are encoded after. The edited query
   * is part of the cache digest. Calls chain in order.
   */
  withBuildOptions(modify: (query: Record<string, unknown>) => void): this {
    this.raw.queryModifiers.push(modify);
    return this;
  }

  /**
   * Builds the image (or finds it in the cache) and returns a `GenericContainer` for it, which also carries the image
   * as `builtImage`.
   *
   * @param tag A name for the image, e.g. `you/users-service:1.0`. Default: a name derived from the context and the
   *   digest, under `localhost/throwaway/`.
   */
  async build(tag?: string, options: BuildImageOptions = {}): Promise<BuiltGenericContainer> {
    const image = await this.buildImage(tag, options);
    return image.container();
  }

  /** Builds the image (or finds it in the cache) and returns it: id, name, `tag()`, `push()`, `remove()`. */
  async buildImage(tag?: string, options: BuildImageOptions = {}): Promise<BuiltImage> {
    const normalized = normalizeBuild(this.raw, tag, options);
    // The context walk, tar writer and Dockerfile parser load with the first build, not with `import "throwaway"`:
    // most test processes never build.
    const [{ prepareContext, contextDigest }, { parseStages }] = await Promise.all([
      import("./build-context.js"),
      import("./build-dockerfile.js"),
    ]);
    const prepared = await prepareContext(normalized.context, normalized.dockerfile);
    const dockerfileText = prepared.dockerfileContent.toString("utf8");
    const stages = parseStages(dockerfileText, normalized.buildArgs);
    if (normalized.target !== undefined && stages.length > 0 && !stages.some((s) => s.name === normalized.target!.toLowerCase())) {
      const named = stages.map((s) => s.name).filter(Boolean);
      throw new InvalidOptionError(
        "withTarget",
        `a stage of ${prepared.dockerfilePath} (${named.length ? named.join(", ") : "it names none"})`,
        normalized.target,
      );
    }

    const query: Record<string, unknown> = {
      dockerfile: prepared.dockerfileName,
      buildargs: normalized.buildArgs,
      labels: normalized.labels,
      ...(normalized.target ? { target: normalized.target } : {}),
      ...(normalized.platform ? { platform: normalized.platform } : {}),
      version: normalized.buildKit ? "2" : "1",
    };
    for (const modify of this.raw.queryModifiers) modify(query);
    const digest = await contextDigest(prepared, query);

    const engine = await getEngine();
    const skip = normalized.noCache || normalized.pullBaseImages;
    const wanted = normalized.tag?.toString() ?? defaultName(prepared.contextDir, digest);
    let result: BuildResult = await buildOnce(digest, normalized.keep, skip, async () => {
      const { hit, basesKey } = await lookupCache(engine, { digest, keep: normalized.keep, tag: normalized.tag, wanted, skip, stages });
      if (hit) return { ...hit, cached: true };
      const id = await sendBuild(engine, {
        normalized,
        prepared,
        query,
        digest,
        name: wanted,
        basesKey,
        stages,
        registryAuth: this.raw.registryAuth,
        onProgress: options.onProgress,
        signal: options.signal,
      });
      return { id, name: wanted, cached: false };
    });
    if (normalized.tag && result.name !== normalized.tag.toString()) {
      await engine.tagImage(result.id, normalized.tag.name, normalized.tag.tag ?? "latest");
      result = { ...result, name: normalized.tag.toString() };
    }
    const id = result.id;
    const factory = this.containerFactory ?? registeredContainerFactory();
    return new BuiltImage(engine, {
      id,
      name: result.name,
      digest,
      cached: result.cached,
      kept: normalized.keep,
      // By id: the name may be moved or deleted by another process building or tearing down the same image.
      makeContainer: (name) => {
        if (!factory)
          throw new InvalidOptionError(
            "DockerfileBuilder(containerFactory)",
            "a container factory (or GenericContainer.fromDockerfile)",
            factory,
          );
        return factory(name, id);
      },
    });
  }
}
