import { createHash } from "node:crypto";
import { debug } from "../debug.js";
import type { Engine } from "../engine/engine.js";
import { engineMessage, engineStatus } from "../engine/engine-errors.js";
import { LABELS } from "../labels.js";
import { sessionLabels } from "../reaper/session.js";
import { trackResource, untrackResource } from "../reaper/tracker.js";
import { VERSION } from "../version.js";
import { hashCopyItems } from "./copy.js";
import type { NormalizedOptions } from "./options.js";

/** Bumped when what a cache image holds changes shape, so older cache images stop matching. */
const WARM_FORMAT = "1";

/** The repository cache images are tagged into: readable in `docker images`, never a Docker Hub name. */
export const WARM_REPO_PREFIX = "localhost/throwaway-warm";

/** A definition's cache entry: its content address and the image reference it lives under. */
export interface WarmEntry {
  key: string;
  ref: string;
  repo: string;
  tag: string;
}

/**
 * The content address of a definition's initialised state, or `undefined` when it cannot have one (an archive given
 * as a stream: its content is unknown until read). It covers the base image by id (a moved tag initialises afresh),
 * the platform, the create body (env, command, entrypoint, user, working dir, mounts, limits), the copied files by
 * content, and the module's init-procedure version. Networks and names are left out: they differ per run and do not
 * change what initialisation writes.
 */
export async function warmEntry(
  imageId: string,
  options: NormalizedOptions,
  body: Record<string, unknown>,
  moduleVersion: string,
): Promise<WarmEntry | undefined> {
  if (options.archives.some(({ tar }) => !Buffer.isBuffer(tar))) return undefined;
  const { Labels: _labels, NetworkingConfig: _networking, Image: _image, ...config } = body;
  const hostConfig = { ...((config.HostConfig ?? {}) as Record<string, unknown>) };
  delete hostConfig.NetworkMode;
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ format: WARM_FORMAT, imageId, platform: options.platform ?? "", moduleVersion }));
  hash.update(JSON.stringify({ ...config, HostConfig: hostConfig }));
  await hashCopyItems(options.copies, hash);
  for (const { tar, target } of options.archives) {
    hash.update(JSON.stringify({ kind: "archive", target }));
    hash.update(tar as Buffer);
  }
  const key = hash.digest("hex");
  const slug =
    options.image.repository
      .split("/")
      .pop()!
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+|[._-]+$/g, "") || "image";
  const repo = `${WARM_REPO_PREFIX}/${slug}`;
  const tag = key.slice(0, 32);
  return { key, repo, tag, ref: `${repo}:${tag}` };
}

/**
 * The cross-process lock on capturing one entry: a created (never started) container under a name derived from the
 * key. The engine's unique names make exactly one process the capturer, on one host or many; the others start cold
 * without capturing. It carries the session labels, so a capturer that dies leaves it to the dead-session sweep.
 * Resolves to the lock's id, or `undefined` when another process holds it (or the lock could not be made).
 */
export async function acquireCaptureLock(engine: Engine, entry: WarmEntry, imageId: string): Promise<string | undefined> {
  const name = `throwaway-warm-lock-${entry.key.slice(0, 32)}`;
  try {
    const id = await engine.createContainer(
      { Image: imageId, Entrypoint: ["/throwaway-warm-lock"], Labels: { ...sessionLabels(), [LABELS.warmKey]: entry.key } },
      { name },
    );
    trackResource(engine, "container", id);
    return id;
  } catch (error) {
    const reason = engineStatus(error) === 409 ? "another process is capturing it" : engineMessage(error);
    debug("warm", `${entry.ref}: not capturing here (${reason}); starting cold`);
    return undefined;
  }
}

export async function releaseCaptureLock(engine: Engine, id: string): Promise<void> {
  try {
    await engine.removeContainer(id, { force: true });
    untrackResource("container", id);
  } catch (error) {
    debug("warm", `could not remove the capture lock ${id.slice(0, 12)}: ${engineMessage(error)}`);
  }
}

/**
 * Commits container `id` as the cache image of `entry`. The image is kept across sessions (it is the point), and
 * the tag appears only when the commit is complete, so no process can start from a half-written entry.
 */
export async function commitWarmImage(engine: Engine, id: string, entry: WarmEntry, pause: boolean): Promise<string> {
  const changes = [`LABEL ${LABELS.keep}=true`, `LABEL ${LABELS.warmKey}=${entry.key}`, `LABEL ${LABELS.version}=${VERSION}`];
  return engine.commitContainer(id, { repo: entry.repo, tag: entry.tag, changes: changes.join("\n"), pause });
}

/**
 * Records a use of a cache image: re-tagging sets the engine's `LastTagTime`, which `throwaway prune --cache
 * --older-than` reads. Never fails a start.
 */
export async function touchWarmImage(engine: Engine, entry: WarmEntry): Promise<void> {
  try {
    await engine.tagImage(entry.ref, entry.repo, entry.tag);
  } catch (error) {
    debug("warm", `could not record the use of ${entry.ref}: ${engineMessage(error)}`);
  }
}
