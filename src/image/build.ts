import { createHash } from "node:crypto";
import { basename } from "node:path";
import { env } from "../config.js";
import type { GenericContainer } from "../container/generic-container.js";
import type { PullPolicy } from "../container/options.js";
import { debug } from "../debug.js";
import { normalizeDuration } from "../duration.js";
import { resolveAuth } from "../engine/auth.js";
import { type Engine, engineMessage, getEngine, type ImageRemoval } from "../engine/engine.js";
import type { PushResult } from "../engine/push.js";
import type { ImageSummary, ProgressListener, RegistryAuth } from "../engine/types.js";
import { EngineRequestError, InvalidOptionError } from "../errors.js";
import { normalizePlatform } from "../platform.js";
import { prepareSession } from "../reaper/index.js";
import { getSessionId, LABELS, sessionLabels, VERSION } from "../reaper/session.js";
import { trackResource, untrackResource } from "../reaper/tracker.js";
import type { PreparedContext } from "./build-context.js";
import type { parseStages } from "./build-dockerfile.js";
import { DOCKER_HUB, ImageName } from "./image-name.js";

/** Default build timeout: 10 minutes (`THROWAWAY_BUILD_TIMEOUT`, ms). */
export const DEFAULT_BUILD_TIMEOUT_MS = 600_000;
/** Default push timeout: 5 minutes (`THROWAWAY_PUSH_TIMEOUT`, ms). */
export const DEFAULT_PUSH_TIMEOUT_MS = 300_000;

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

export interface ImagePushOptions {
  /**
   * Credentials for the image's registry. Default: looked up as the docker CLI does (`DOCKER_AUTH_CONFIG`, then
   * `~/.docker/config.json` auths, credential helpers and store).
   */
  auth?: RegistryAuth;
  /** Receives the engine's progress as `push` events (the same shape as pulls). */
  onProgress?: ProgressListener;
  /** Milliseconds the push may take. Default 300000 (5 min); env `THROWAWAY_PUSH_TIMEOUT`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A `GenericContainer` for a built image, with the image itself at hand. */
export type BuiltGenericContainer = GenericContainer & { readonly builtImage: BuiltImage };

interface RawBuildOptions {
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

interface NormalizedBuild {
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

/** Builds that are running in this process, by digest: a second identical `build()` waits for the first. */
const inflight = new Map<string, Promise<{ id: string; name: string; cached: boolean }>>();

/** Unreferenced layers each throwaway build in this process left, by image id: removed with the image. */
const leftoversByImage = new Map<string, string[]>();

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

  /**
   * @param context The build context directory.
   * @param options A Dockerfile path (as testcontainers takes it) or {@link DockerfileBuildOptions}.
   */
  constructor(context: string, options: string | DockerfileBuildOptions = {}) {
    const opts: DockerfileBuildOptions = typeof options === "string" ? { dockerfile: options } : (options ?? {});
    this.raw = {
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
  withPullPolicy(policy: PullPolicy): this {
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
    this.raw.registryAuth.set(normalizeRegistry(registry), auth);
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
    const key = `${digest}:${normalized.keep ? "keep" : getSessionId()}`;
    const skipCache = normalized.noCache || normalized.pullBaseImages;
    const running = inflight.get(key);
    let result: { id: string; name: string; cached: boolean };
    if (running && !skipCache) {
      result = { ...(await running), cached: true };
    } else {
      const work = (async () => {
        // The base images' ids are read beside the cache lookup: the same latency as the lookup alone. The lookup
        // first inspects the name a cached build would have (about 1 ms); listing images by label makes the engine
        // scan every image (5-10 ms), so it is only the fallback for builds that were named otherwise.
        const wanted = normalized.tag?.toString() ?? defaultName(prepared.contextDir, digest);
        const [named, basesKey] = await Promise.all([
          skipCache ? undefined : findCachedByName(engine, wanted, digest, normalized.keep),
          baseImagesKey(engine, stages),
        ]);
        const candidates =
          named && named.Labels?.[BASES_LABEL] === basesKey ? [named] : skipCache ? [] : await findCached(engine, digest, normalized.keep);
        const hit = candidates.find((image) => image.Labels?.[BASES_LABEL] === basesKey);
        if (hit) return { ...(await nameCachedImage(engine, hit, normalized, prepared, digest)), cached: true };
        if (candidates.length > 0) debug("build", `cached ${digest.slice(0, 12)} was built on other base images: building again`);
        return { ...(await this.send(engine, normalized, prepared, query, digest, basesKey, stages, options)), cached: false };
      })();
      inflight.set(key, work);
      try {
        result = await work;
      } finally {
        if (inflight.get(key) === work) inflight.delete(key);
      }
    }
    if (normalized.tag && result.name !== normalized.tag.toString()) {
      await engine.tagImage(result.id, normalized.tag.name, normalized.tag.tag ?? "latest");
      result = { ...result, name: normalized.tag.toString() };
    }
    const { GenericContainer, runImageById } = await import("../container/generic-container.js");
    const id = result.id;
    return new BuiltImage(engine, {
      id,
      name: result.name,
      digest,
      cached: result.cached,
      kept: normalized.keep,
      // By id: the name may be moved or deleted by another process building or tearing down the same image.
      makeContainer: (name) => runImageById(new GenericContainer(name), id),
    });
  }

  /** The cache missed: sends the context and builds. */
  private async send(
    engine: Engine,
    normalized: NormalizedBuild,
    prepared: PreparedContext,
    query: Record<string, unknown>,
    digest: string,
    basesKey: string,
    stages: ReturnType<typeof parseStages>,
    options: BuildImageOptions,
  ): Promise<{ id: string; name: string }> {
    prepareSession(engine);
    const name = normalized.tag?.toString() ?? defaultName(prepared.contextDir, digest);
    const ownLabels = normalized.keep ? { [LABELS.keep]: "true", [LABELS.version]: VERSION } : sessionLabels();
    const labels: Record<string, string> = {
      ...(query.labels as Record<string, string> | undefined),
      ...ownLabels,
      [LABELS.buildDigest]: digest,
      [BASES_LABEL]: basesKey,
    };
    // The classic builder runs one container per label given through the API; a single LABEL line appended to the
    // target stage costs one step instead. BuildKit sets labels without steps.
    const inline = normalized.buildKit
      ? {}
      : Object.fromEntries(Object.entries(labels).filter(([k, v]) => isPlainLabel(k) && isPlainLabel(v)));
    const targetIndex = normalized.target === undefined ? undefined : stages.findIndex((s) => s.name === normalized.target!.toLowerCase());
    const labelLine = Object.keys(inline).length
      ? `LABEL ${Object.entries(inline)
          .map(([k, v]) => `"${k}"="${v}"`)
          .join(" ")}`
      : undefined;
    const [{ composeSend, tarContext }, { runBuild }] = await Promise.all([import("./build-context.js"), import("../engine/build.js")]);
    const toSend = composeSend(prepared, labelLine, targetIndex);
    const queryLabels = toSend.injected ? Object.fromEntries(Object.entries(labels).filter(([k]) => !(k in inline))) : labels;
    const registryConfig = await this.registryConfig(stages);
    const finalQuery: Record<string, unknown> = {
      ...query,
      t: name,
      dockerfile: toSend.dockerfileName,
      buildargs: JSON.stringify(query.buildargs ?? {}),
      labels: JSON.stringify(queryLabels),
      // Intermediate containers of a failed step would outlive the build unlabelled; forcerm removes them.
      rm: true,
      forcerm: true,
      ...(normalized.noCache ? { nocache: true } : {}),
      ...(normalized.pullBaseImages ? { pull: true } : {}),
    };
    debug("build", `building ${name} from ${prepared.contextDir} (${toSend.entries.length} entries, digest ${digest.slice(0, 12)})`);
    const sentDockerfile = toSend.entries.find((e) => e.name === toSend.dockerfileName)?.content ?? prepared.dockerfileContent;
    // Layers a throwaway build leaves unreferenced (earlier stages, a failed step's predecessor) go with the session;
    // a kept build keeps them as the cache of its next build, as docker build does.
    const leftovers: string[] = [];
    const { imageId } = await runBuild(engine, {
      leftovers,
      context: tarContext(toSend.entries),
      query: finalQuery,
      ...(Object.keys(registryConfig).length ? { registryConfig } : {}),
      image: name,
      contextDir: prepared.contextDir,
      dockerfile: sentDockerfile.toString("utf8"),
      timeoutMs: normalized.timeoutMs,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }).finally(() => {
      if (!normalized.keep) for (const id of leftovers) trackResource(engine, "image", id);
    });
    if (!normalized.keep) {
      trackResource(engine, "image", imageId);
      if (leftovers.length) leftoversByImage.set(imageId, leftovers);
    }
    return { id: imageId, name };
  }

  /** `X-Registry-Config`: credentials for every registry the `FROM` lines pull from, where some are known. */
  private async registryConfig(stages: ReturnType<typeof parseStages>): Promise<Record<string, RegistryAuth>> {
    const registries = new Set<string>();
    for (const stage of stages) {
      if (stage.internal || !stage.from) continue;
      try {
        registries.add(ImageName.parse(stage.from).registryHost);
      } catch {
        // A FROM the engine will reject with its own message; no credentials to look up for it.
      }
    }
    const config: Record<string, RegistryAuth> = {};
    await Promise.all(
      [...registries].map(async (registry) => {
        const auth = this.raw.registryAuth.get(registry) ?? (await resolveAuth(registry).catch(() => undefined));
        if (auth) config[registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry] = auth;
      }),
    );
    return config;
  }
}

/**
 * An image built (or found in the cache) by {@link DockerfileBuilder}. Unless kept, it carries the session labels
 * and is removed at teardown; `await using` removes it at the end of the scope.
 */
export class BuiltImage implements AsyncDisposable {
  /** The image id, `sha256:...`. */
  readonly id: string;
  /** The reference it runs under, e.g. `you/users-service:1.0`. */
  readonly name: string;
  /** The content digest it is cached by (label `dev.throwaway.build-digest`). */
  readonly digest: string;
  /** True when `build()` found it instead of building. */
  readonly cached: boolean;
  /** True when it outlives the test run (a tag was given, or `keep: true`). */
  readonly kept: boolean;
  private readonly engine: Engine;
  private readonly makeContainer: (name: string) => GenericContainer;

  constructor(
    engine: Engine,
    state: { id: string; name: string; digest: string; cached: boolean; kept: boolean; makeContainer: (name: string) => GenericContainer },
  ) {
    this.engine = engine;
    this.id = state.id;
    this.name = state.name;
    this.digest = state.digest;
    this.cached = state.cached;
    this.kept = state.kept;
    this.makeContainer = state.makeContainer;
  }

  getId(): string {
    return this.id;
  }

  getName(): string {
    return this.name;
  }

  /** A new `GenericContainer` for this image (each call a fresh builder). */
  container(): BuiltGenericContainer {
    const container = this.makeContainer(this.name);
    Object.defineProperty(container, "builtImage", { value: this, enumerable: false });
    return container as BuiltGenericContainer;
  }

  /**
   * Gives the image another name, e.g. `registry.example.com:5000/team/app:1.0` before a push; returns a handle
   * under that name. The image stays as kept (or not) as it was.
   */
  async tag(reference: string): Promise<BuiltImage> {
    const name = ImageName.parse(reference, "tag(reference)");
    if (name.digest) throw new InvalidOptionError("tag(reference)", "a reference with a tag, not a digest", reference);
    await this.engine.tagImage(this.id, name.name, name.tag ?? "latest");
    return new BuiltImage(this.engine, {
      id: this.id,
      name: name.toString(),
      digest: this.digest,
      cached: this.cached,
      kept: this.kept,
      makeContainer: this.makeContainer,
    });
  }

  /**
   * Pushes the image under its name to the registry the name points at (tag it first with {@link tag}). Refused
   * credentials throw `RegistryAuthError`, other failures `ImagePushError`; neither contains the password.
   *
   * Labels travel with an image: push images built with a tag or `keep: true`, since a throwaway build carries this
   * session's labels, and a later run's cleanup on this host would take a pulled copy for a leftover of it.
   */
  async push(options: ImagePushOptions = {}): Promise<PushResult> {
    const timeoutMs =
      options.timeoutMs === undefined
        ? env.pushTimeoutMs(DEFAULT_PUSH_TIMEOUT_MS)
        : normalizeDuration("push({ timeoutMs })", options.timeoutMs);
    const { pushImage } = await import("../engine/push.js");
    return pushImage(this.engine, ImageName.parse(this.name, "push()"), {
      timeoutMs,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Removes the image and all its names from the engine. Throws `EngineRequestError` when the engine keeps it because
   * images were built on it since (remove those first); a container still using it keeps it alive, untagged.
   */
  async remove(): Promise<void> {
    let removal: ImageRemoval;
    try {
      removal = await this.engine.removeImage(this.id, true);
    } catch (error) {
      throw this.engine.requestError(`Removing image ${this.name} (${this.id.slice(7, 19)}) failed`, error, { image: this.name });
    }
    if (removal.outcome === "kept") {
      throw new EngineRequestError(
        `Image ${this.name} (${this.id.slice(7, 19)}) was kept by the engine: ${removal.reason} (remove what uses it first)`,
        { image: this.name, statusCode: removal.statusCode },
      );
    }
    untrackResource("image", this.id);
    for (const leftover of leftoversByImage.get(this.id) ?? []) {
      // Without force: a layer another image was built on since is still needed and stays (the engine says 409,
      // and removeImage writes the debug line).
      await this.engine
        .removeImage(leftover)
        .catch((error: unknown) => debug("build", `keeping layer ${leftover}: ${engineMessage(error)}`));
      untrackResource("image", leftover);
    }
    leftoversByImage.delete(this.id);
  }

  /** Removes the image unless it is kept. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.kept) await this.remove();
  }
}

/**
 * Label with the ids the `FROM` images had when the image was built. The content digest covers only the context;
 * when a base image changes on the engine (pulled anew, rebuilt), the cached image is stale, as it is for docker
 * build's own layer cache.
 */
const BASES_LABEL = "dev.throwaway.build-bases";

/** A short hash of the engine's current ids for the Dockerfile's `FROM` images (`missing` for those it lacks). */
async function baseImagesKey(engine: Engine, stages: ReturnType<typeof parseStages>): Promise<string> {
  const refs = [...new Set(stages.filter((s) => !s.internal && s.from).map((s) => s.from))].sort();
  const ids = await Promise.all(
    refs.map(async (ref) => {
      try {
        return `${ref}=${(await engine.inspectImage(ref))?.Id ?? "missing"}`;
      } catch (error) {
        return `${ref}=unknown (${engineMessage(error)})`;
      }
    }),
  );
  return createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 32);
}

/** Usable images with `digest`, newest first: kept across runs, or (for a throwaway build) of this session. */
/** The image under `name`, when it is a usable cached build of `digest` (see {@link findCached} for "usable"). */
async function findCachedByName(engine: Engine, name: string, digest: string, keep: boolean): Promise<ImageSummary | undefined> {
  const image = await engine.inspectImage(name).catch(() => undefined);
  const labels = image?.Config?.Labels ?? {};
  if (!image || !isUsableCache(labels, digest, keep)) return undefined;
  return { Id: image.Id, RepoTags: image.RepoTags, Labels: labels, Created: 0, Size: 0 };
}

function isUsableCache(labels: Record<string, string>, digest: string, keep: boolean): boolean {
  if (labels[LABELS.buildDigest] !== digest) return false;
  return labels[LABELS.keep] === "true" || (!keep && labels[LABELS.session] === getSessionId());
}

async function findCached(engine: Engine, digest: string, keep: boolean): Promise<ImageSummary[]> {
  let found: ImageSummary[];
  try {
    found = await engine.listImages({ label: [`${LABELS.buildDigest}=${digest}`] });
  } catch (error) {
    debug("build", `image cache lookup failed, building: ${engineMessage(error)}`);
    return [];
  }
  const usable = found.filter((image) => isUsableCache(image.Labels ?? {}, digest, keep));
  return usable.sort((a, b) => b.Created - a.Created);
}

/** The name a cached image runs under: the requested tag, else one of its own names, else a new default name. */
async function nameCachedImage(
  engine: Engine,
  image: ImageSummary,
  normalized: NormalizedBuild,
  prepared: PreparedContext,
  digest: string,
): Promise<{ id: string; name: string }> {
  const tags = (image.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
  const wanted = normalized.tag?.toString() ?? defaultName(prepared.contextDir, digest);
  if (tags.includes(wanted)) {
    debug("build", `cache hit: ${wanted} (${image.Id.slice(7, 19)})`);
    return { id: image.Id, name: wanted };
  }
  const own = normalized.tag ? undefined : tags[0];
  if (own) {
    debug("build", `cache hit: ${own} (${image.Id.slice(7, 19)})`);
    return { id: image.Id, name: own };
  }
  const name = ImageName.parse(wanted);
  await engine.tagImage(image.Id, name.name, name.tag ?? "latest");
  debug("build", `cache hit: ${image.Id.slice(7, 19)}, tagged ${wanted}`);
  return { id: image.Id, name: wanted };
}

/** `localhost/throwaway/<context dir name>:<digest prefix>`: readable in `docker images`, never a Docker Hub name. */
function defaultName(contextDir: string, digest: string): string {
  const slug =
    basename(contextDir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+|[._-]+$/g, "")
      .replace(/[._-]{2,}/g, "-") || "context";
  return `localhost/throwaway/${slug}:${digest.slice(0, 20)}`;
}

/** Safe inside a double-quoted LABEL word: nothing the Dockerfile parser would expand or unquote. */
function isPlainLabel(text: string): boolean {
  return /^[A-Za-z0-9 ._:/@+=,-]*$/.test(text);
}

function normalizeRegistry(registry: string): string {
  const host = registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** Checks every recorded option once; the first bad one throws {@link InvalidOptionError}. */
function normalizeBuild(raw: RawBuildOptions, tag: string | undefined, options: BuildImageOptions): NormalizedBuild {
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
