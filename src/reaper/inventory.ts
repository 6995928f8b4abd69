import type { Engine } from "../engine/engine.js";
import { LABELS } from "../labels.js";
import type { ResourceKind } from "./tracker.js";

/** One resource throwaway created, as `ps`, `prune`, the sweep and the watchdog see it. */
export interface OwnedResource {
  kind: ResourceKind;
  /** Container, network or image id; a volume's name (volumes have no id). */
  id: string;
  /** Container or network name, an image's first tag, a volume's name; `""` when it has none. */
  name: string;
  labels: Record<string, string>;
  /** Creation time in ms since the epoch; `undefined` when the engine does not say (volumes on old engines). */
  createdMs: number | undefined;
  /** A container's state (`running`, `exited`, ...); `""` for other kinds. */
  state: string;
  /** A container's image. */
  image?: string;
  /** An image's tags: each must be removed before the image itself can be. */
  tags?: string[];
}

/** The order resources must be removed in: containers hold networks, volumes and images in use. */
export const REMOVAL_ORDER: readonly ResourceKind[] = ["container", "network", "volume", "image"];

/**
 * Every resource carrying the session label (all sessions, or just `sessionId`), in removal order: four list calls
 * made side by side.
 */
export async function listOwnedResources(engine: Engine, sessionId?: string): Promise<OwnedResource[]> {
  const filters = { label: [sessionId === undefined ? LABELS.session : `${LABELS.session}=${sessionId}`] };
  const [containers, networks, volumes, images] = await Promise.all([
    engine.listContainers(filters, true),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
    engine.listImages(filters),
  ]);
  const resources: OwnedResource[] = [];
  for (const c of containers) {
    resources.push({
      kind: "container",
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      labels: c.Labels ?? {},
      createdMs: c.Created * 1000,
      state: c.State,
      image: c.Image,
    });
  }
  for (const n of networks) {
    resources.push({ kind: "network", id: n.Id, name: n.Name, labels: n.Labels ?? {}, createdMs: parseTime(n.Created), state: "" });
  }
  for (const v of volumes) {
    const created = (v as { CreatedAt?: string }).CreatedAt;
    resources.push({ kind: "volume", id: v.Name, name: v.Name, labels: v.Labels ?? {}, createdMs: parseTime(created), state: "" });
  }
  for (const i of images) {
    const tags = (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    resources.push({ kind: "image", id: i.Id, name: tags[0] ?? "", labels: i.Labels ?? {}, createdMs: i.Created * 1000, state: "", tags });
  }
  return resources;
}

function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** True for resources that must outlive every session (reused containers, `throwaway up --keep`). */
export function isKept(resource: Pick<OwnedResource, "labels">): boolean {
  return resource.labels[LABELS.keep] === "true";
}
