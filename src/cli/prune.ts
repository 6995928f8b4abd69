import { getEngine } from "../engine/current.js";
import { endpointUrl } from "../engine/discovery.js";
import { LABELS } from "../labels.js";
import { isKept, listOwnedResources, type OwnedResource } from "../reaper/inventory.js";
import { realVantage, selectForRemoval, viewSessions } from "../reaper/liveness.js";
import { describeResource, removeResources } from "../reaper/remove.js";
import type { ResourceKind } from "../reaper/tracker.js";
import { type CliCommand, type CliIo, EXIT, UsageError } from "./command.js";
import { count, formatAge, joinAnd } from "./format.js";
import { formatSize, listWarmCache, parseOlderThan } from "./warm-cache.js";

export const prune: CliCommand = {
  name: "prune",
  summary: "Remove what dead sessions left behind (or everything of ours, with --all)",
  help: `Usage: throwaway prune [--all] [--include-kept] [--session <id>] [--dry-run]
       throwaway prune --cache [--older-than <duration>] [--dry-run]

Removes the containers (with their anonymous volumes), networks, volumes and images left by dead
sessions: sessions none of whose creating processes still runs on this host (see \`throwaway ps\`).
Live sessions, sessions of other hosts, and kept resources (reused containers) are left alone.

Options:
  -a, --all         also remove resources of live and unknown sessions (every session but this
                    command's own): for a machine where no test run is going on
      --include-kept
                    also remove kept resources (reused containers, \`throwaway up --keep\`)
      --session <id>
                    only this session (still only when dead, unless --all)
      --cache       remove warm-start cache images (\`withWarmStart()\`) instead: all of them, or
                    with --older-than only those no start used for that long
      --older-than <duration>
                    with --cache: milliseconds, or a whole number with ms, s, m, h or d (\`7d\`)
  -n, --dry-run     print what would be removed, remove nothing
  -h, --help        show this help

Prints one line per resource removed. Exit code 0 when everything selected was removed (or nothing
was to be), 1 when a removal failed or the engine could not be reached, 2 for a wrong command line.`,
  options: {
    all: { type: "boolean", short: "a" },
    "include-kept": { type: "boolean" },
    session: { type: "string" },
    "dry-run": { type: "boolean", short: "n" },
    cache: { type: "boolean" },
    "older-than": { type: "string" },
  },
  async run(values, _positionals, io) {
    if (values["older-than"] !== undefined && values.cache !== true) throw new UsageError("--older-than applies to --cache only");
    if (values.cache === true) {
      if (values.all || values["include-kept"] || values.session !== undefined) {
        throw new UsageError("--cache removes cache images only: give it without --all, --include-kept or --session");
      }
      const olderThan = values["older-than"] === undefined ? undefined : parseOlderThan(values["older-than"] as string);
      return pruneCache(olderThan, values["dry-run"] === true, io);
    }
    const engine = await getEngine();
    const vantage = realVantage();
    const onlySession = values.session as string | undefined;
    const sessions = viewSessions(await listOwnedResources(engine, onlySession), vantage);
    const includeKept = values["include-kept"] === true;
    const doomed = selectForRemoval(sessions, values.all ? "all" : "dead", { ownSessionId: vantage.sessionId, includeKept });
    const where = endpointUrl(engine.endpoint);

    if (doomed.length === 0) {
      io.out(`Nothing to prune on ${where}.${leftAloneNote(sessions, values.all === true, includeKept)}`);
      return EXIT.ok;
    }
    const statusOf = new Map(sessions.map((s) => [s.id, `${s.status}: ${s.reason}`]));
    const sessionOf = (r: OwnedResource) => r.labels[LABELS.session] ?? "";
    const dryRun = values["dry-run"] === true;
    const results = dryRun ? doomed.map((resource) => ({ resource, error: undefined })) : await removeResources(engine, doomed);

    // Grouped by session, in the order the sessions were listed.
    let failed = 0;
    for (const session of sessions) {
      const mine = results.filter((r) => sessionOf(r.resource) === session.id);
      if (mine.length === 0) continue;
      io.out(`session ${session.id} (${statusOf.get(session.id)})`);
      for (const { resource, error } of mine) {
        if (error) {
          failed++;
          io.err(`  could not remove ${describeResource(resource)}: ${error}`);
        } else {
          io.out(`  ${dryRun ? "would remove" : "removed"} ${describeResource(resource)}${isKept(resource) ? " [kept]" : ""}`);
        }
      }
    }
    const done = results.filter((r) => !r.error).map((r) => r.resource);
    const sessionCount = new Set(done.map(sessionOf)).size;
    const summary = `${kinds(done)} of ${count(sessionCount, "session")}`;
    if (dryRun) io.out(`Would remove ${summary}; run without --dry-run to remove them.`);
    else if (done.length > 0) io.out(`Removed ${summary}.`);
    if (failed > 0) {
      io.err(`Could not remove ${count(failed, "resource")}: see above. \`throwaway ps\` shows what is left.`);
      return EXIT.failure;
    }
    return EXIT.ok;
  },
};

/** `2 containers and 1 network`. */
function kinds(resources: readonly OwnedResource[]): string {
  const order: ResourceKind[] = ["container", "network", "volume", "image"];
  return joinAnd(
    order
      .map((k) => [k, resources.filter((r) => r.kind === k).length] as const)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => count(n, k)),
  );
}

/** Why nothing was pruned, when something was left alone on purpose. */
function leftAloneNote(sessions: ReturnType<typeof viewSessions>, all: boolean, includeKept: boolean): string {
  const notes: string[] = [];
  if (!all) {
    const alive = sessions.filter((s) => s.status === "alive").length;
    const unknown = sessions.filter((s) => s.status === "unknown").length;
    const parts = [alive ? `${alive} alive` : "", unknown ? `${unknown} unknown` : ""].filter(Boolean);
    if (parts.length) notes.push(`${count(alive + unknown, "session")} left alone (${parts.join(", ")}): --all removes those too`);
  }
  const kept = includeKept ? 0 : sessions.reduce((n, s) => n + s.resources.filter(isKept).length, 0);
  if (kept) notes.push(`${count(kept, "kept resource")} left alone: --include-kept removes those too`);
  return notes.length ? ` ${notes.join("; ")}.` : "";
}

/** `prune --cache`: warm-start cache images, all or those unused for `olderThanMs`, least recently used first. */
async function pruneCache(olderThanMs: number | undefined, dryRun: boolean, io: CliIo): Promise<number> {
  const engine = await getEngine();
  const now = Date.now();
  const cache = await listWarmCache(engine);
  const doomed = olderThanMs === undefined ? cache : cache.filter((image) => now - image.lastUsedMs >= olderThanMs);
  if (doomed.length === 0) {
    const left = cache.length > 0 ? ` ${count(cache.length, "cache image")} used more recently left alone.` : "";
    io.out(`No warm-start cache images to prune on ${endpointUrl(engine.endpoint)}.${left}`);
    return EXIT.ok;
  }
  let failed = 0;
  let freed = 0;
  for (const image of doomed) {
    const what = `cache image ${image.ref || image.id.slice(7, 19)} (${formatSize(image.sizeBytes)}, last used ${formatAge(image.lastUsedMs, now)} ago)`;
    if (dryRun) {
      io.out(`would remove ${what}`);
      continue;
    }
    try {
      // By id with force: the image may carry more than one tag; containers still running from it keep their layers.
      const removal = await engine.removeImage(image.id, true);
      if (removal.outcome === "kept") throw new Error(removal.reason);
      freed += image.sizeBytes;
      io.out(`removed ${what}`);
    } catch (error) {
      failed++;
      io.err(`could not remove ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (dryRun) io.out(`Would remove ${count(doomed.length, "cache image")}; run without --dry-run to remove them.`);
  else if (doomed.length > failed) io.out(`Removed ${count(doomed.length - failed, "cache image")}, ${formatSize(freed)}.`);
  return failed > 0 ? EXIT.failure : EXIT.ok;
}
