import { getEngine } from "../engine/current.js";
import { endpointUrl } from "../engine/discovery.js";
import { shortId } from "../errors.js";
import { LABELS } from "../labels.js";
import { isKept, listOwnedResources, type OwnedResource } from "../reaper/inventory.js";
import { realVantage, type SessionView, viewSessions } from "../reaper/liveness.js";
import { type CliCommand, EXIT } from "./command.js";
import { count, formatAge, formatTable } from "./format.js";
import { listWarmCache, type WarmCacheImage, warmCacheLines } from "./warm-cache.js";

export const ps: CliCommand = {
  name: "ps",
  summary: "List throwaway's containers, networks, volumes and images, by session",
  help: `Usage: throwaway ps [--session <id>] [--json]

Lists every container, network, volume and image throwaway created on the engine, grouped by the
session (test run) that created them, oldest first, with each session's status:
  alive    a process that created its resources is still running on this host
  dead     every such process is gone: \`throwaway prune\` removes what is left
  unknown  created on another host or in another pid namespace, so it cannot be told
Resources marked \`kept\` (reused containers) outlive their session and are never pruned by default.
Warm-start cache images (\`withWarmStart()\`) are listed apart, with their size and last use
(without --session); \`throwaway prune --cache\` removes them.

Options:
  --session <id>  only this session
  --json          print one JSON document instead of the table
  -h, --help      show this help

The engine is found as for tests: DOCKER_HOST, the docker context, then the usual sockets.`,
  options: {
    session: { type: "string" },
    json: { type: "boolean" },
  },
  async run(values, _positionals, io) {
    const engine = await getEngine();
    const onlySession = values.session as string | undefined;
    const [owned, cache] = await Promise.all([
      listOwnedResources(engine, onlySession),
      onlySession === undefined ? listWarmCache(engine) : Promise.resolve([]),
    ]);
    // Cache images carry the labels of the session that captured them, but belong to no run: listed apart.
    const sessions = viewSessions(
      owned.filter((r) => r.kind !== "image" || r.labels[LABELS.warmKey] === undefined),
      realVantage(),
    );
    const now = Date.now();
    if (values.json) {
      const document = { engine: endpointUrl(engine.endpoint), sessions: sessions.map((s) => toJson(s)), cache: cache.map(cacheJson) };
      io.out(JSON.stringify(document, null, 2));
      return EXIT.ok;
    }
    const cacheLines = warmCacheLines(cache, now);
    if (sessions.length === 0 && cacheLines.length > 0) {
      for (const line of cacheLines) io.out(line);
      return EXIT.ok;
    }
    if (sessions.length === 0) {
      io.out(
        onlySession === undefined
          ? `No throwaway resources on ${endpointUrl(engine.endpoint)}.`
          : `No resources of session ${onlySession} on ${endpointUrl(engine.endpoint)}.`,
      );
      return EXIT.ok;
    }
    const header = ["KIND", "ID", "NAME", "IMAGE", "STATE", "AGE", ""];
    const rows = sessions.flatMap((s) => s.resources.map((r) => resourceRow(r, now)));
    // One layout for all sessions, so the columns line up down the whole listing.
    const lines = formatTable([header, ...rows], "  ");
    let next = 1;
    sessions.forEach((session, i) => {
      if (i > 0) io.out("");
      io.out(`session ${session.id}  ${session.status} (${session.reason})  started ${formatAge(session.createdMs, now)} ago`);
      io.out(lines[0]!);
      for (let j = 0; j < session.resources.length; j++) io.out(lines[next++]!);
    });
    const byStatus = (status: string) => sessions.filter((s) => s.status === status).length;
    const dead = byStatus("dead");
    io.out("");
    io.out(
      `${count(sessions.length, "session")}: ${byStatus("alive")} alive, ${dead} dead, ${byStatus("unknown")} unknown.` +
        (dead > 0 ? " `throwaway prune` removes what the dead ones left." : ""),
    );
    if (cacheLines.length > 0) {
      io.out("");
      for (const line of cacheLines) io.out(line);
    }
    return EXIT.ok;
  },
};

/** Long generated image tags would push every other column off screen; `--json` has them whole. */
const MAX_CELL = 40;

function resourceRow(r: OwnedResource, now: number): string[] {
  // Volumes have names, not ids, but anonymous ones are named by 64 hex digits.
  const id = r.kind === "volume" && !/^[0-9a-f]{64}$/.test(r.id) ? clip(r.id) : shortId(r.id.replace(/^sha256:/, ""));
  const name = r.kind === "volume" ? "" : r.name;
  return [r.kind, id, clip(name), clip(r.image ?? ""), r.state, formatAge(r.createdMs, now), isKept(r) ? "kept" : ""];
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

function toJson(session: SessionView) {
  return {
    id: session.id,
    status: session.status,
    reason: session.reason,
    pids: session.pids,
    createdAt: session.createdMs === undefined ? null : new Date(session.createdMs).toISOString(),
    resources: session.resources.map((r) => ({
      kind: r.kind,
      id: r.id,
      name: r.name,
      ...(r.image !== undefined ? { image: r.image } : {}),
      ...(r.kind === "container" ? { state: r.state } : {}),
      createdAt: r.createdMs === undefined ? null : new Date(r.createdMs).toISOString(),
      kept: isKept(r),
      labels: r.labels,
    })),
  };
}

function cacheJson(image: WarmCacheImage) {
  return {
    id: image.id,
    ref: image.ref,
    key: image.key,
    sizeBytes: image.sizeBytes,
    createdAt: new Date(image.createdMs).toISOString(),
    lastUsedAt: new Date(image.lastUsedMs).toISOString(),
  };
}
