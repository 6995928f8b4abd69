// withWarmStart() against the real engine and the mysql:5.7 stand-in: a cold start fills the cache, later starts run
// from it with the init script's data and nothing a container wrote, a changed script initialises afresh, racing
// processes leave one cache image, a deleted cache image means a cold start, and `throwaway prune --cache` removes
// cache images. Each test's init script carries a token of this run, so its cache address is its own; every cache
// image made here is removed at the end.

import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { LABELS } from "throwaway";
import { MySqlContainer } from "throwaway/mysql";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";

const run = promisify(execFile);
const RUN = `${process.pid}-${Date.now()}`;

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

/** Cache images on the engine (id, tag, warm key), ours or not. */
function cacheImages(): { id: string; key: string }[] {
  const ids = docker("images", "-q", "--no-trunc", "--filter", `label=${LABELS.warmKey}`).split("\n").filter(Boolean);
  const found: { id: string; key: string }[] = [];
  for (const id of new Set(ids)) {
    try {
      found.push({ id, key: docker("image", "inspect", "-f", `{{index .Config.Labels "${LABELS.warmKey}"}}`, id) });
    } catch {
      // removed between the listing and the inspect
    }
  }
  return found;
}

const before = new Set(cacheImages().map((i) => i.id));
afterAll(() => {
  for (const { id } of cacheImages()) if (!before.has(id)) execFileSync("docker", ["rmi", "-f", id], { stdio: "ignore" });
});

/** The image a container was created from, as named in its create body. */
function imageOf(id: string): string {
  return docker("inspect", "-f", "{{.Config.Image}}", id);
}

function seed(token: string): string {
  return `CREATE TABLE seed (id INT PRIMARY KEY, note VARCHAR(40));\nINSERT INTO seed VALUES (1, '${token}'), (2, 'b'), (3, 'c');\n`;
}

/** Runs the CLI in this process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(...line.split("\n")), err: (line) => err.push(...line.split("\n")) });
  return { code, out, err };
}

function definition(sql: string) {
  return new MySqlContainer().withInitScripts({ sql, name: "seed" }).withWarmStart();
}

describe("MySqlContainer.withWarmStart()", () => {
  it("starts later containers from the captured state: the init script's data, nothing any container wrote", async () => {
    const sql = seed(`warm-${RUN}`);
    const cold = await definition(sql).start();
    const base = imageOf(cold.getId());
    expect(base).toBe("mysql:5.7");
    // The capture stopped MySQL cleanly (not killed) before committing it.
    const coldLogs = execFileSync("sh", ["-c", `docker logs ${cold.getId()} 2>&1`], { encoding: "utf8" });
    // Two clean shutdowns: the entrypoint's temporary init server, then the server the capture stopped.
    expect(coldLogs.match(/: Shutdown complete$/gm)).toHaveLength(2);
    // Written after start() resolved: the capture happened before, so it must not reach the cache.
    await cold.executeQuery("INSERT INTO seed VALUES (100, 'written by the first container')");
    await cold.stop();
    const mine = cacheImages().filter((i) => !before.has(i.id));
    expect(mine).toHaveLength(1);

    const warm = await definition(sql).start();
    const cacheRef = imageOf(warm.getId());
    try {
      expect(cacheRef).toMatch(/^localhost\/throwaway-warm\/mysql:[0-9a-f]{32}$/);
      expect(await warm.executeQuery("SELECT id, note FROM seed ORDER BY id")).toEqual([
        { id: 1, note: `warm-${RUN}` },
        { id: 2, note: "b" },
        { id: 3, note: "c" },
      ]);
      await warm.executeQuery("INSERT INTO seed VALUES (200, 'written by a warm container')");
    } finally {
      await warm.stop();
    }

    const next = await definition(sql).start();
    try {
      expect(imageOf(next.getId())).toBe(cacheRef);
      expect(await next.executeQuery("SELECT id FROM seed ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      // Initialisation is skipped, and the clean shutdown before the capture means this boot ran no crash recovery.
      const logs = execFileSync("sh", ["-c", `docker logs ${next.getId()} 2>&1`], { encoding: "utf8" });
      expect(logs).toContain("ready for connections");
      expect(logs).not.toContain("Initializing database files");
      expect(logs.toLowerCase()).not.toMatch(/crash recovery|starting recovery/);
    } finally {
      await next.stop();
    }
    expect(cacheImages().filter((i) => !before.has(i.id))).toHaveLength(1);
  });

  it("initialises afresh when one byte of the init script changes", async () => {
    const first = await definition(seed(`a-${RUN}`)).start();
    await first.stop();
    const changed = await definition(seed(`b-${RUN}`)).start();
    try {
      expect(imageOf(changed.getId())).toBe("mysql:5.7");
      expect(await changed.executeQuery("SELECT note FROM seed WHERE id = 1")).toEqual([{ note: `b-${RUN}` }]);
    } finally {
      await changed.stop();
    }
    const keys = new Set(
      cacheImages()
        .filter((i) => !before.has(i.id))
        .map((i) => i.key),
    );
    expect(keys.size).toBeGreaterThanOrEqual(2);
  });

  it("two processes racing on a cold cache: one cache image, two working containers", async () => {
    const sql = seed(`race-${RUN}`);
    const script = new URL("../../support/warm-start.mjs", import.meta.url).pathname;
    const known = new Set(cacheImages().map((i) => i.id));
    const outputs = await Promise.all([1, 2].map(() => run(process.execPath, [script, sql], { env: process.env })));
    const results = outputs.map(({ stdout }) => stdout.trim().split(" "));
    expect(new Set(results.map(([id]) => id)).size).toBe(2);
    expect(results.map(([, rows]) => rows)).toEqual(["3", "3"]);
    expect(cacheImages().filter((i) => !known.has(i.id))).toHaveLength(1);
    expect(docker("ps", "-aq", "--filter", "name=throwaway-warm-lock-")).toBe("");
  });

  it("falls back to a cold start when the cache image was deleted, and captures again", async () => {
    const sql = seed(`deleted-${RUN}`);
    const known = new Set(cacheImages().map((i) => i.id));
    await (await definition(sql).start()).stop();
    const made = cacheImages().filter((i) => !known.has(i.id));
    expect(made).toHaveLength(1);
    docker("rmi", "-f", made[0]!.id);
    const again = await definition(sql).start();
    try {
      expect(imageOf(again.getId())).toBe("mysql:5.7");
      expect(await again.executeQuery("SELECT COUNT(*) AS n FROM seed")).toEqual([{ n: 3 }]);
    } finally {
      await again.stop();
    }
    expect(cacheImages().filter((i) => !known.has(i.id))).toHaveLength(1);
  });

  // Last: `prune --cache` removes every cache image on the engine, and only this file makes them.
  it("throwaway ps lists cache images with their size; prune --cache removes them (--older-than spares recent ones)", async () => {
    const sql = seed(`prune-${RUN}`);
    await (await definition(sql).start()).stop();
    const mine = cacheImages().filter((i) => !before.has(i.id));
    expect(mine.length).toBeGreaterThanOrEqual(1);

    const json = await cli("ps", "--json");
    expect(json.code).toBe(0);
    const listed = (JSON.parse(json.out.join("\n")) as { cache: { id: string; ref: string; sizeBytes: number; lastUsedAt: string }[] })
      .cache;
    for (const { id } of mine) {
      const entry = listed.find((c) => c.id === id);
      expect(entry?.ref).toMatch(/^localhost\/throwaway-warm\/mysql:[0-9a-f]{32}$/);
      expect(entry?.sizeBytes).toBeGreaterThan(0);
    }
    const text = await cli("ps");
    expect(text.out.some((line) => /^warm-start cache: \d+ images?, /.test(line))).toBe(true);

    const recent = await cli("prune", "--cache", "--older-than", "1d");
    expect(recent.code).toBe(0);
    expect(cacheImages().filter((i) => !before.has(i.id))).toHaveLength(mine.length);

    const all = await cli("prune", "--cache");
    expect(all).toMatchObject({ code: 0, err: [] });
    expect(all.out.at(-1)).toMatch(/^Removed \d+ cache images?, /);
    expect(cacheImages()).toEqual([]);
    expect(await cli("prune", "--older-than", "1d")).toMatchObject({ code: 2 });
  });
});
