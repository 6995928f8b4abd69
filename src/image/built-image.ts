import { env } from "../config.js";
import { debug } from "../debug.js";
import { normalizeDuration } from "../duration.js";
import type { Engine, ImageRemoval } from "../engine/engine.js";
import { engineMessage } from "../engine/engine-errors.js";
import type { PushResult } from "../engine/push.js";
import type { ProgressListener, RegistryAuth } from "../engine/types.js";
import { EngineRequestError, InvalidOptionError } from "../errors.js";
import { untrackResource } from "../reaper/tracker.js";
import type { BuildContainer } from "./container-factory.js";
import { ImageName } from "./image-name.js";

/** Default push timeout: 5 minutes (`THROWAWAY_PUSH_TIMEOUT`, ms). */
export const DEFAULT_PUSH_TIMEOUT_MS = 300_000;

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
export type BuiltGenericContainer = BuildContainer & { readonly builtImage: BuiltImage };

/** Unreferenced layers each throwaway build in this process left, by image id: removed with the image. */
const leftoversByImage = new Map<string, string[]>();

/** Records the layers a throwaway build of `imageId` left unreferenced, so {@link BuiltImage.remove} takes them too. */
export function rememberLeftovers(imageId: string, leftovers: string[]): void {
  if (leftovers.length) leftoversByImage.set(imageId, leftovers);
}

/**
 * An image built (or found in the cache) by `DockerfileBuilder`. Unless kept, it carries the session labels and is
 * removed at teardown; `await using` removes it at the end of the scope.
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
  private readonly makeContainer: (name: string) => BuildContainer;

  constructor(
    engine: Engine,
    state: { id: string; name: string; digest: string; cached: boolean; kept: boolean; makeContainer: (name: string) => BuildContainer },
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
