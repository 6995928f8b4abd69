import { debug } from "../debug.js";
import { ImagePullError, RegistryAuthError } from "../errors.js";
import type { ImageName } from "../image/image-name.js";
import { resolveAuth } from "./auth.js";
import type { Engine } from "./engine.js";
import { engineMessage, engineStatus } from "./engine-errors.js";
import { type EngineProgressLine, jsonLines } from "./json-lines.js";
import { registryFailure } from "./registry-failure.js";
import { scrubCause, scrubSecrets } from "./scrub.js";
import type { ProgressListener, RegistryAuth } from "./types.js";

export interface PullOptions {
  /** `os/arch[/variant]`, e.g. `linux/amd64`. Default: the engine's own. */
  platform?: string;
  /** Credentials; default: looked up like the docker CLI does (`DOCKER_AUTH_CONFIG`, config.json, helpers). */
  auth?: RegistryAuth;
  onProgress?: ProgressListener;
  /** Milliseconds the whole pull may take. Default 300000; env `THROWAWAY_PULL_TIMEOUT`. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Classifies a pull failure: missing image and refused credentials fail at once with a named error. */
function pullError(image: ImageName, rawMessage: string, auth: RegistryAuth | undefined, cause?: unknown, status?: number): Error {
  const registry = image.registryHost;
  const hadAuth = auth !== undefined;
  // The same scrub as push errors: a registry or proxy may echo the credentials it was sent.
  const message = scrubSecrets(rawMessage, auth);
  const ctx = { image: image.toString(), registry, ...(cause ? { cause: scrubCause(cause, auth) } : {}) };
  const kind = registryFailure("pull", message, status);
  if (kind === "unreachable") {
    return new ImagePullError(
      `Registry ${registry} is unreachable, so ${image} cannot be pulled: ${message} (check the network, or mirror the image with THROWAWAY_HUB_IMAGE_NAME_PREFIX)`,
      ctx,
    );
  }
  if (kind === "denied" && hadAuth) {
    return new RegistryAuthError(`Registry ${registry} refused the credentials for ${image}: ${message}`, ctx);
  }
  if (kind === "denied" || kind === "not-found") {
    const hint = hadAuth ? "check the name and tag" : `check the name and tag, or log in with \`docker login ${registry}\``;
    return new ImagePullError(`Image ${image} was not found or access was denied by ${registry}: ${message} (${hint})`, ctx);
  }
  return new ImagePullError(`Pulling ${image} from ${registry} failed: ${message}`, ctx);
}

/** Pulls `image` and resolves when the engine has it. Progress goes to `onProgress` and the debug log. */
export async function pullImage(engine: Engine, image: ImageName, options: PullOptions): Promise<void> {
  const started = Date.now();
  const auth = options.auth ?? (await resolveAuth(image.registryHost));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  debug("pull", `pulling ${image}${options.platform ? ` for ${options.platform}` : ""}`);
  const tag = image.digest ?? image.tag ?? "latest";
  try {
    const stream = await engine.pullStream(image.name, tag, {
      ...(options.platform ? { platform: options.platform } : {}),
      ...(auth ? { auth } : {}),
      signal,
    });
    for await (const line of jsonLines<EngineProgressLine>(stream)) {
      if (line.error || line.errorDetail?.message) {
        stream.destroy();
        throw pullError(image, (line.errorDetail?.message ?? line.error ?? "").trim(), auth);
      }
      if (line.status) {
        options.onProgress?.({
          kind: "pull",
          image: image.toString(),
          status: line.status,
          ...(line.id ? { id: line.id } : {}),
          ...(line.progressDetail?.current !== undefined ? { current: line.progressDetail.current } : {}),
          ...(line.progressDetail?.total !== undefined ? { total: line.progressDetail.total } : {}),
        });
      }
    }
  } catch (error) {
    if (error instanceof ImagePullError || error instanceof RegistryAuthError) throw error;
    if (timeout.aborted) {
      throw new ImagePullError(
        `Pulling ${image} from ${image.registryHost} timed out after ${options.timeoutMs} ms (raise THROWAWAY_PULL_TIMEOUT for slow networks)`,
        { image: image.toString(), registry: image.registryHost, timeoutMs: options.timeoutMs, cause: error },
      );
    }
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    const status = engineStatus(error);
    throw pullError(image, `${engineMessage(error)}${status ? ` (HTTP ${status})` : ""}`, auth, error, status);
  }
  debug("pull", `pulled ${image} in ${Date.now() - started} ms`);
}
