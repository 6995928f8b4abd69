import { createHash } from "node:crypto";
import { basename } from "node:path";
import { debug } from "../debug.js";
import type { Engine } from "../engine/engine.js";
import { engineMessage } from "../engine/engine-errors.js";
import type { ImageSummary } from "../engine/types.js";
import { LABELS } from "../labels.js";
import { getSessionId } from "../reaper/session.js";
import type { DockerfileStage } from "./build-dockerfile.js";
import { ImageName } from "./image-name.js";

/**
 * The content-addressed image cache of `DockerfileBuilder`: where a cached build is looked up, what it is named,
 * and the in-process lock that makes a second identical build wait for the first.
 */

/**
 * Label with the ids the `FROM` images had when the image was built. The content digest covers only the context;
 * when a base image changes on the engine (pulled anew, rebuilt), the cached image is stale, as it is for docker
 * build's own layer cache.
 */
export const BASES_LABEL = "dev.throwaway.build-bases";

/** An image a build produced or found. */
export interface BuildResult {
  id: string;
  name: string;
  cached: boolean;
}

/** Builds that are running in this process, by digest: a second identical `build()` waits for the first. */
const inflight = new Map<string, Promise<BuildResult>>();

/**
 * Runs `work` for the build of `digest`, unless an identical one is running in this process: then its result is
 * shared (as a cache hit) instead. `skipCache` builds (`noCache`, `pullBaseImages`) always run, and hold the lock
 * for those that come after.
 */
export async function buildOnce(digest: string, keep: boolean, skipCache: boolean, work: () => Promise<BuildResult>): Promise<BuildResult> {
  // A kept image serves every session; a throwaway one only its own.
  const key = `${digest}:${keep ? "keep" : getSessionId()}`;
  const running = inflight.get(key);
  if (running && !skipCache) return { ...(await running), cached: true };
  const started = work();
  inflight.set(key, started);
  try {
    return await started;
  } finally {
    if (inflight.get(key) === started) inflight.delete(key);
  }
}

/** What the cache lookup found: the image to use, if any, and the base images' key a new build must carry. */
export interface CacheLookup {
  hit: { id: string; name: string } | undefined;
  basesKey: string;
}

export interface CacheQuery {
  digest: string;
  keep: boolean;
  /** The name the user asked for, if any. */
  tag: ImageName | undefined;
  /** The name the image runs under: the tag, else {@link defaultName}. */
  wanted: string;
  /** Look nothing up (`noCache`, `pullBaseImages`); the base images' key is still computed. */
  skip: boolean;
  stages: readonly DockerfileStage[];
}

/**
 * Finds a usable cached build of `query.digest` built on the `FROM` images the engine has now. The base images' ids
 * are read beside the lookup: the same latency as the lookup alone. The lookup first inspects the name a cached
 * build would have (about 1 ms); listing images by label makes the engine scan every image (5-10 ms), so it is only
 * the fallback for builds that were named otherwise.
 */
export async function lookupCache(engine: Engine, query: CacheQuery): Promise<CacheLookup> {
  const { digest, keep, skip } = query;
  const [named, basesKey] = await Promise.all([
    skip ? undefined : findCachedByName(engine, query.wanted, digest, keep),
    baseImagesKey(engine, query.stages),
  ]);
  const candidates = named && named.Labels?.[BASES_LABEL] === basesKey ? [named] : skip ? [] : await findCached(engine, digest, keep);
  const hit = candidates.find((image) => image.Labels?.[BASES_LABEL] === basesKey);
  if (hit) return { hit: await nameCachedImage(engine, hit, query), basesKey };
  if (candidates.length > 0) debug("build", `cached ${digest.slice(0, 12)} was built on other base images: building again`);
  return { hit: undefined, basesKey };
}

/** A short hash of the engine's current ids for the Dockerfile's `FROM` images (`missing` for those it lacks). */
async function baseImagesKey(engine: Engine, stages: readonly DockerfileStage[]): Promise<string> {
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

/** The image under `name`, when it is a usable cached build of `digest` (see {@link isUsableCache}). */
async function findCachedByName(engine: Engine, name: string, digest: string, keep: boolean): Promise<ImageSummary | undefined> {
  const image = await engine.inspectImage(name).catch(() => undefined);
  const labels = image?.Config?.Labels ?? {};
  if (!image || !isUsableCache(labels, digest, keep)) return undefined;
  return { Id: image.Id, RepoTags: image.RepoTags, Labels: labels, Created: 0, Size: 0 };
}

/** Usable: built from `digest`, and kept across runs or (for a throwaway build) of this session. */
function isUsableCache(labels: Record<string, string>, digest: string, keep: boolean): boolean {
  if (labels[LABELS.buildDigest] !== digest) return false;
  return labels[LABELS.keep] === "true" || (!keep && labels[LABELS.session] === getSessionId());
}

/** Usable images with `digest`, newest first. */
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
async function nameCachedImage(engine: Engine, image: ImageSummary, query: CacheQuery): Promise<{ id: string; name: string }> {
  const tags = (image.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
  const { wanted } = query;
  if (tags.includes(wanted)) {
    debug("build", `cache hit: ${wanted} (${image.Id.slice(7, 19)})`);
    return { id: image.Id, name: wanted };
  }
  const own = query.tag ? undefined : tags[0];
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
export function defaultName(contextDir: string, digest: string): string {
  const slug =
    basename(contextDir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+|[._-]+$/g, "")
      .replace(/[._-]{2,}/g, "-") || "context";
  return `localhost/throwaway/${slug}:${digest.slice(0, 20)}`;
}
