import { debug } from "../debug.js";
import type { Engine, ImageRemoval } from "../engine/engine.js";
import { engineMessage } from "../engine/engine-errors.js";
import { EngineRequestError, shortId } from "../errors.js";
import { type OwnedResource, REMOVAL_ORDER } from "./inventory.js";
import type { ResourceKind } from "./tracker.js";

/** The outcome of removing one resource. */
export interface RemovalResult {
  resource: OwnedResource;
  /** The engine's text when the removal failed. */
  error?: string;
}

/**
 * Removes resources kind by kind in {@link REMOVAL_ORDER} (containers first: they hold the networks, volumes and
 * images), each kind's removals side by side. Containers go with `force` (kill and remove in one call) and their
 * anonymous volumes. Never throws: each failure is reported in its result.
 */
export async function removeResources(engine: Engine, resources: readonly OwnedResource[]): Promise<RemovalResult[]> {
  const results: RemovalResult[] = [];
  for (const kind of REMOVAL_ORDER) {
    const batch = resources.filter((r) => r.kind === kind);
    results.push(
      ...(await Promise.all(
        batch.map(async (resource): Promise<RemovalResult> => {
          try {
            await removeOne(engine, resource);
            debug("reaper", `removed ${describeResource(resource)}`);
            return { resource };
          } catch (error) {
            debug("reaper", `could not remove ${describeResource(resource)}: ${engineMessage(error)}`);
            return { resource, error: engineMessage(error) };
          }
        }),
      )),
    );
  }
  return results;
}

/** Removes one resource by kind and id; "already gone" is success. Used for tracked resources too. */
export async function removeOne(engine: Engine, resource: { kind: ResourceKind; id: string; tags?: string[] }): Promise<void> {
  switch (resource.kind) {
    case "container":
      return engine.removeContainer(resource.id, { force: true, volumes: true });
    case "network":
      return engine.removeNetwork(resource.id);
    case "volume":
      return engine.removeVolume(resource.id);
    case "image":
      // An image with several tags cannot be removed by id without force; untag first so an image some other
      // container still uses is left alone (force would untag it under that container).
      for (const tag of resource.tags ?? []) await engine.removeImage(tag);
      return keptIsFailure(resource.id, await engine.removeImage(resource.id));
  }
}

/** A kept image is a resource left behind: the reaper retries and reports it, with the engine's reason. */
function keptIsFailure(id: string, removal: ImageRemoval): void {
  if (removal.outcome === "kept") {
    throw new EngineRequestError(`Image ${shortId(id.replace(/^sha256:/, ""))} was kept by the engine: ${removal.reason}`, {
      statusCode: removal.statusCode,
    });
  }
}

/** `container 3f2a9c1b7d10 (busybox:latest)`, `network 9a1b2c3d4e5f (throwaway-net-1)`. */
export function describeResource(resource: Pick<OwnedResource, "kind" | "id" | "name" | "image">): string {
  const named = resource.kind === "volume" && !/^[0-9a-f]{64}$/.test(resource.id);
  const id = named ? resource.id : shortId(resource.id.replace(/^sha256:/, ""));
  const about = [resource.kind === "volume" ? "" : resource.name, resource.image].filter(Boolean).join(", ");
  return `${resource.kind} ${id}${about ? ` (${about})` : ""}`;
}
