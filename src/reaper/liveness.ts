import { LABELS } from "../labels.js";
import { isKept, type OwnedResource } from "./inventory.js";
import { getHostname, getPidScope, getSessionId } from "./session.js";

/**
 * Whether a session can still be using its resources:
 * - `alive`: one of its creator processes is running in our pid space (or it is this process's own session);
 * - `dead`: every creator pid is provably gone from our pid space, so nothing can be using them;
 * - `unknown`: some creator ran where we cannot see its pid (another host, another pid namespace, no pid label).
 *   Only `prune --all` removes such sessions.
 */
export type SessionStatus = "alive" | "dead" | "unknown";

/** Where "is this pid alive?" can be answered; tests pass fakes. */
export interface Vantage {
  hostname: string;
  /** `getPidScope()`: `""` when the platform has none. */
  pidScope: string;
  /** This process's session, always alive. */
  sessionId: string;
  isPidAlive(pid: number): boolean;
}

export function realVantage(): Vantage {
  return { hostname: getHostname(), pidScope: getPidScope(), sessionId: getSessionId(), isPidAlive };
}

/** `kill(pid, 0)`: ESRCH proves the process gone; EPERM means it exists under another user. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One session's resources and what is known of its creators. */
export interface SessionView {
  id: string;
  status: SessionStatus;
  /** Why: `pid 4242 is running`, `pids 4242, 4250 are gone`, `created on host ci-7`. */
  reason: string;
  /** Creator pids seen in our pid space. */
  pids: number[];
  /** Oldest creation time among its resources (ms since the epoch). */
  createdMs: number | undefined;
  resources: OwnedResource[];
}

/** The creator pid when it is meaningful from `vantage` (same host and pid space), else why not. */
export function localPid(resource: Pick<OwnedResource, "labels">, vantage: Vantage): number | string {
  const { labels } = resource;
  const host = labels[LABELS.hostname];
  const pid = Number(labels[LABELS.pid]);
  if (!labels[LABELS.pid] || !Number.isSafeInteger(pid) || pid <= 0) return "no creator pid label";
  if (host === undefined) return "no host label";
  if (host !== vantage.hostname) return `created on host ${host}`;
  const scope = labels[LABELS.pidScope];
  // A resource with a scope label compared from a platform without one (or the reverse) cannot be judged.
  if ((scope ?? "") !== vantage.pidScope) return "created in another pid namespace or boot";
  return pid;
}

/** Judges one session from all of its resources (kept ones included: their creator pids count too). */
export function judgeSession(id: string, resources: OwnedResource[], vantage: Vantage): Omit<SessionView, "resources" | "createdMs"> {
  if (id === vantage.sessionId) return { id, status: "alive", reason: "this process's own session", pids: [process.pid] };
  const pids = new Set<number>();
  const blind = new Set<string>();
  for (const resource of resources) {
    const pid = localPid(resource, vantage);
    if (typeof pid === "number") pids.add(pid);
    else blind.add(pid);
  }
  const sorted = [...pids].sort((a, b) => a - b);
  const alive = sorted.filter((pid) => vantage.isPidAlive(pid));
  if (alive.length > 0) {
    return {
      id,
      status: "alive",
      reason: `${plural("pid", alive)} ${alive.join(", ")} ${alive.length > 1 ? "are" : "is"} running`,
      pids: sorted,
    };
  }
  if (blind.size > 0) return { id, status: "unknown", reason: [...blind].sort().join("; "), pids: sorted };
  return {
    id,
    status: "dead",
    reason: `${plural("pid", sorted)} ${sorted.join(", ")} ${sorted.length > 1 ? "are" : "is"} gone`,
    pids: sorted,
  };
}

/** Groups resources by session and judges each; sessions sorted oldest first. */
export function viewSessions(resources: OwnedResource[], vantage: Vantage): SessionView[] {
  const bySession = new Map<string, OwnedResource[]>();
  for (const resource of resources) {
    const id = resource.labels[LABELS.session];
    if (id === undefined) continue;
    let list = bySession.get(id);
    if (!list) bySession.set(id, (list = []));
    list.push(resource);
  }
  const views: SessionView[] = [];
  for (const [id, list] of bySession) {
    const times = list.map((r) => r.createdMs).filter((t): t is number => t !== undefined);
    views.push({ ...judgeSession(id, list, vantage), createdMs: times.length ? Math.min(...times) : undefined, resources: list });
  }
  return views.sort((a, b) => (a.createdMs ?? 0) - (b.createdMs ?? 0) || a.id.localeCompare(b.id));
}

export type PruneScope = "dead" | "all";

/**
 * What a prune or sweep removes: resources of dead sessions (`dead`), or of every session but `ownSessionId`
 * (`all`); kept resources only when `includeKept`.
 */
export function selectForRemoval(
  sessions: SessionView[],
  scope: PruneScope,
  options: { ownSessionId: string; includeKept?: boolean },
): OwnedResource[] {
  const selected: OwnedResource[] = [];
  for (const session of sessions) {
    if (session.id === options.ownSessionId) continue;
    if (scope === "dead" && session.status !== "dead") continue;
    for (const resource of session.resources) if (options.includeKept || !isKept(resource)) selected.push(resource);
  }
  return selected;
}

/**
 * Whether the watchdog of a session that just ended may remove `resource`. It may not when the resource is kept,
 * or when its creator is a process the watchdog never heard of that is still running here: a process of the same
 * session that started while the watchdog was already reaping (it will spawn its own watchdog).
 */
export function mayReap(resource: Pick<OwnedResource, "labels">, knownPids: ReadonlySet<number>, vantage: Vantage): boolean {
  if (isKept(resource)) return false;
  const pid = localPid(resource, vantage);
  if (typeof pid !== "number") {
    // A resource made on another host or pid space by a process of this session is judged by its own watchdog.
    return pid === "no creator pid label" || pid === "no host label";
  }
  return knownPids.has(pid) || !vantage.isPidAlive(pid);
}

function plural(word: string, items: readonly unknown[]): string {
  return items.length === 1 ? word : `${word}s`;
}
