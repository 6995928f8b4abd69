import { debug } from "../debug.js";
import { resolveAuth } from "../engine/auth.js";
import type { Engine } from "../engine/engine.js";
import type { ProgressListener, RegistryAuth } from "../engine/types.js";
import { LABELS } from "../labels.js";
import { prepareSession } from "../reaper/index.js";
import { sessionLabels } from "../reaper/session.js";
import { trackResource } from "../reaper/tracker.js";
import { VERSION } from "../version.js";
import { BASES_LABEL } from "./build-cache.js";
import type { PreparedContext } from "./build-context.js";
import type { DockerfileStage } from "./build-dockerfile.js";
import type { NormalizedBuild } from "./build-options.js";
import { rememberLeftovers } from "./built-image.js";
import { DOCKER_HUB, ImageName } from "./image-name.js";

/** A build the cache could not serve: everything needed to send it. */
export interface BuildToSend {
  normalized: NormalizedBuild;
  prepared: PreparedContext;
  /** The `/build` query as the digest covers it (`buildargs` and `labels` still objects). */
  query: Record<string, unknown>;
  digest: string;
  /** The name the image gets. */
  name: string;
  basesKey: string;
  stages: readonly DockerfileStage[];
  /** Credentials given with `withRegistryAuth`, by registry host. */
  registryAuth: ReadonlyMap<string, RegistryAuth>;
  onProgress: ProgressListener | undefined;
  signal: AbortSignal | undefined;
}

/** Sends the context and builds; resolves with the image id. Labels the image for the cache and the session. */
export async function sendBuild(engine: Engine, build: BuildToSend): Promise<string> {
  const { normalized, prepared, query, digest, name, stages } = build;
  prepareSession(engine);
  const ownLabels = normalized.keep ? { [LABELS.keep]: "true", [LABELS.version]: VERSION } : sessionLabels();
  const labels: Record<string, string> = {
    ...(query.labels as Record<string, string> | undefined),
    ...ownLabels,
    [LABELS.buildDigest]: digest,
    [BASES_LABEL]: build.basesKey,
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
  const registryConfig = await registryConfigFor(stages, build.registryAuth);
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
    ...(build.onProgress ? { onProgress: build.onProgress } : {}),
    ...(build.signal ? { signal: build.signal } : {}),
  }).finally(() => {
    if (!normalized.keep) for (const id of leftovers) trackResource(engine, "image", id);
  });
  if (!normalized.keep) {
    trackResource(engine, "image", imageId);
    rememberLeftovers(imageId, leftovers);
  }
  return imageId;
}

/** `X-Registry-Config`: credentials for every registry the `FROM` lines pull from, where some are known. */
async function registryConfigFor(
  stages: readonly DockerfileStage[],
  given: ReadonlyMap<string, RegistryAuth>,
): Promise<Record<string, RegistryAuth>> {
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
      const auth = given.get(registry) ?? (await resolveAuth(registry).catch(() => undefined));
      if (auth) config[registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry] = auth;
    }),
  );
  return config;
}

/** The key `withRegistryAuth` files credentials under: the registry's host, Docker Hub's aliases as one. */
export function registryKey(registry: string): string {
  const host = registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** Safe inside a double-quoted LABEL word: nothing the Dockerfile parser would expand or unquote. */
function isPlainLabel(text: string): boolean {
  return /^[A-Za-z0-9 ._:/@+=,-]*$/.test(text);
}
