import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { getEngine, LABELS } from "throwaway";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("processes racing to start the same reusable container share one", async () => {
  const key = `${process.pid}-${Date.now()}`;
  const script = new URL("../support/reuse-start.mjs", import.meta.url).pathname;
  const starts = await Promise.all([1, 2, 3].map(() => run(process.execPath, [script, key], { env: process.env })));
  const ids = starts.map(({ stdout }) => stdout.trim());
  const engine = await getEngine();
  try {
    expect(new Set(ids).size).toBe(1);
    const found = await engine.listContainers({ label: [`${LABELS.reuseHash}`], name: ["throwaway-reuse-"] });
    expect(found.filter((c) => c.Id === ids[0])).toHaveLength(1);
  } finally {
    for (const id of new Set(ids)) await engine.removeContainer(id, { force: true });
  }
});
