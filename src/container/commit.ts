import type { Engine } from "../engine/engine.js";
import { engineMessage } from "../engine/engine-errors.js";
import { describeContainer, type ErrorContext, InvalidOptionError } from "../errors.js";
import { LABELS } from "../labels.js";
import { trackResource } from "../reaper/tracker.js";

/** What `StartedContainer.commit()` makes: an image of the container as it is now (`docker commit`). */
export interface CommitOptions {
  /** Repository to tag the image into, e.g. `my-app-snapshot`. Default: no tag (the image id is returned). */
  repo?: string;
  /** Tag within `repo`. Default `latest`. */
  tag?: string;
  /** Author recorded in the image. */
  author?: string;
  /** Commit message recorded in the image. */
  comment?: string;
  /** Dockerfile instructions applied to the image's config, e.g. `["ENV MODE=snapshot", 'CMD ["sh"]']`. */
  changes?: readonly string[];
  /**
   * Remove the image when the session ends (it keeps the container's session labels and is tracked like the
   * session's containers). Default `true`, as in testcontainers; `false` labels the image as kept, so no reaper or
   * `throwaway prune` takes it.
   */
  deleteOnExit?: boolean;
  /** Pause the container while committing, for a consistent filesystem. Default `true`, as with `docker commit`. */
  pause?: boolean;
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const REGISTRY_REPO = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function optional(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new InvalidOptionError(`commit({ ${option} })`, "a non-empty string", value);
  return value;
}

/** Commits container `id`; resolves to `repo:tag` when a repo is given, else the image id. */
export async function commitContainer(engine: Engine, id: string, options: CommitOptions, context: ErrorContext): Promise<string> {
  const repo = optional("repo", options.repo);
  if (repo !== undefined && !REPO.test(repo) && !REGISTRY_REPO.test(repo)) {
    throw new InvalidOptionError("commit({ repo })", "a repository name (lower case, e.g. `my-app-snapshot`)", repo);
  }
  const tag = optional("tag", options.tag);
  if (tag !== undefined && !TAG.test(tag)) throw new InvalidOptionError("commit({ tag })", "a tag ([A-Za-z0-9_][A-Za-z0-9_.-]*)", tag);
  if (tag !== undefined && repo === undefined) {
    throw new InvalidOptionError("commit({ tag })", "given together with `repo`", tag, { hint: "a tag names a place in a repository" });
  }
  const changes = options.changes ?? [];
  if (!Array.isArray(changes) || changes.some((c) => typeof c !== "string" || c.includes("\n"))) {
    throw new InvalidOptionError("commit({ changes })", "an array of one-line Dockerfile instructions", options.changes);
  }
  if (options.deleteOnExit !== undefined && typeof options.deleteOnExit !== "boolean") {
    throw new InvalidOptionError("commit({ deleteOnExit })", "`true` or `false`", options.deleteOnExit);
  }
  const deleteOnExit = options.deleteOnExit ?? true;
  // The image inherits the container's labels, session labels included: a kept image says so, or the reaper of this
  // session would take it.
  const instructions = deleteOnExit ? changes : [...changes, `LABEL ${LABELS.keep}=true`];
  let imageId: string;
  try {
    imageId = await engine.commitContainer(id, {
      ...(repo !== undefined ? { repo, tag: tag ?? "latest" } : {}),
      ...(options.author !== undefined ? { author: optional("author", options.author) } : {}),
      ...(options.comment !== undefined ? { comment: optional("comment", options.comment) } : {}),
      ...(instructions.length > 0 ? { changes: instructions.join("\n") } : {}),
      ...(options.pause !== undefined ? { pause: options.pause } : {}),
    });
  } catch (error) {
    throw engine.requestError(`Committing ${describeContainer(context)} failed: ${engineMessage(error)}`, error, context);
  }
  if (deleteOnExit) trackResource(engine, "image", imageId);
  return repo !== undefined ? `${repo}:${tag ?? "latest"}` : imageId;
}
