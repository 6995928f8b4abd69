import { debug } from "../debug.js";
import { ImagePushError, RegistryAuthError } from "../errors.js";
import type { ImageName } from "../image/image-name.js";
import { type AuthSources, resolveAuth } from "./auth.js";
import type { Engine } from "./engine.js";
import { engineMessage, engineStatus } from "./engine-errors.js";
import { type EngineProgressLine, jsonLines } from "./json-lines.js";
import { registryFailure } from "./registry-failure.js";
import { scrubCause, scrubSecrets } from "./scrub.js";
import type { ProgressListener, RegistryAuth } from "./types.js";

export interface PushOptions {
  /** Credentials; default: looked up like the docker CLI does (`DOCKER_AUTH_CONFIG`, config.json, helpers). */
  auth?: RegistryAuth;
  /** Where to look credentials up when `auth` is not given (tests point these at fixtures). */
  authSources?: AuthSources;
  onProgress?: ProgressListener;
  /** Milliseconds the whole push may take. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PushResult {
  /** The reference pushed, e.g. `registry.example.com/team/app:1.0`. */
  image: string;
  /** The manifest digest the registry stored (`sha256:...`), when the engine reported it. */
  digest: string | undefined;
}

function pushError(image: ImageName, rawMessage: string, auth: RegistryAuth | undefined, cause?: unknown, status?: number): Error {
  const registry = image.registryHost;
  const message = scrubSecrets(rawMessage, auth);
  const ctx = { image: image.toString(), registry, ...(cause ? { cause: scrubCause(cause, auth) } : {}) };
  const kind = registryFailure("push", message, status);
  if (kind === "no-local-image") {
    return new ImagePushError(`Image ${image} cannot be pushed: the engine has no image by that name (tag it first): ${message}`, ctx);
  }
  if (kind === "unreachable") {
    return new ImagePushError(`Registry ${registry} is unreachable, so ${image} cannot be pushed: ${message}`, ctx);
  }
  if (kind === "denied") {
    if (auth) {
      const who = auth.username ? `user ${auth.username}` : "the identity token";
      return new RegistryAuthError(`Registry ${registry} refused the credentials of ${who} to push ${image}: ${message}`, ctx);
    }
    return new RegistryAuthError(
      `Registry ${registry} wants credentials to push ${image} and none were found: ${message} (pass \`auth\`, set DOCKER_AUTH_CONFIG, or \`docker login ${registry}\`)`,
      ctx,
    );
  }
  return new ImagePushError(`Pushing ${image} to ${registry} failed: ${message}`, ctx);
}

/**
 * Pushes `image` (a tag the engine has) to its registry and resolves with the stored digest. Progress goes to
 * `onProgress` as `push` events (the same shape as pulls) and to the debug log. Refused credentials reject with a
 * {@link RegistryAuthError}, anything else with an {@link ImagePushError}; neither ever contains the password.
 */
export async function pushImage(engine: Engine, image: ImageName, options: PushOptions): Promise<PushResult> {
  const started = Date.now();
  const auth = options.auth ?? (await resolveAuth(image.registryHost, options.authSources));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const tag = image.tag ?? "latest";
  debug("push", `pushing ${image}${auth?.username ? ` as ${auth.username}` : ""}`);
  let digest: string | undefined;
  try {
    const stream = await engine.pushStream(image.name, tag, { ...(auth ? { auth } : {}), signal });
    try {
      for await (const line of jsonLines<EngineProgressLine>(stream)) {
        if (line.error || line.errorDetail?.message) {
          throw pushError(image, (line.errorDetail?.message ?? line.error ?? "").trim(), auth);
        }
        if (line.aux?.Digest) digest = line.aux.Digest;
        if (line.status) {
          debug("push", `${line.id ? `${line.id}: ` : ""}${line.status}`);
          options.onProgress?.({
            kind: "push",
            image: image.toString(),
            status: line.status,
            ...(line.id ? { id: line.id } : {}),
            ...(line.progressDetail?.current !== undefined ? { current: line.progressDetail.current } : {}),
            ...(line.progressDetail?.total !== undefined ? { total: line.progressDetail.total } : {}),
          });
        }
      }
    } finally {
      stream.destroy();
    }
  } catch (error) {
    if (error instanceof ImagePushError || error instanceof RegistryAuthError) throw error;
    if (timeout.aborted) {
      throw new ImagePushError(`Pushing ${image} to ${image.registryHost} timed out after ${options.timeoutMs} ms`, {
        image: image.toString(),
        registry: image.registryHost,
        cause: error,
      });
    }
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    const status = engineStatus(error);
    throw pushError(image, `${engineMessage(error)}${status ? ` (HTTP ${status})` : ""}`, auth, error, status);
  }
  debug("push", `pushed ${image}${digest ? ` (${digest})` : ""} in ${Date.now() - started} ms`);
  return { image: image.toString(), digest };
}
