import type { Engine } from "../engine/engine.js";

export type ResourceKind = "container" | "network" | "image" | "volume";

interface Tracked {
  engine: Engine;
  kind: ResourceKind;
  id: string;
}

const live = new Map<string, Tracked>();
const listeners = new Set<(event: "created" | "removed", resource: Tracked) => void>();

/** Records a resource this process created and must remove; the exit hooks and reaper read this. */
export function trackResource(engine: Engine, kind: ResourceKind, id: string): void {
  const resource = { engine, kind, id };
  live.set(`${kind}:${id}`, resource);
  for (const listener of listeners) listener("created", resource);
}

export function untrackResource(kind: ResourceKind, id: string): void {
  const resource = live.get(`${kind}:${id}`);
  if (!resource) return;
  live.delete(`${kind}:${id}`);
  for (const listener of listeners) listener("removed", resource);
}

/** The resources this process created and has not removed yet, newest last. */
export function trackedResources(): Tracked[] {
  return [...live.values()];
}

export function onTrackedChange(listener: (event: "created" | "removed", resource: Tracked) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
