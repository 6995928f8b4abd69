import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { GenericContainer, InvalidOptionError } from "throwaway";
import { afterEach, describe, expect, it } from "vitest";
import { newSessionId, ROOT, requireBuild } from "./helpers.js";

const IMAGE = process.env.THROWAWAY_TEST_IMAGE ?? "busybox:latest";

describe("a reaper that cannot be set up fails the start with the fix, before anything is created", () => {
  const saved = { reaper: process.env.THROWAWAY_REAPER, grace: process.env.THROWAWAY_REAPER_GRACE };
  afterEach(() => {
    for (const [name, value] of [
      ["THROWAWAY_REAPER", saved.reaper],
      ["THROWAWAY_REAPER_GRACE", saved.grace],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("names a bad THROWAWAY_REAPER", async () => {
    process.env.THROWAWAY_REAPER = "sometimes";
    const error = await new GenericContainer(IMAGE).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe('Expected `THROWAWAY_REAPER` to be `on` or `off`, got `"sometimes"` (string)');
  });

  it("names a bad THROWAWAY_REAPER_GRACE", async () => {
    process.env.THROWAWAY_REAPER_GRACE = "1s";
    const error = await new GenericContainer(IMAGE).start().catch((e: unknown) => e);
    expect((error as InvalidOptionError).shortMessage).toBe(
      'Expected `THROWAWAY_REAPER_GRACE` to be a duration in milliseconds from 0 to 3600000, got `"1s"` (string): durations are whole milliseconds, e.g. 30000 for 30 s',
    );
  });

  it("says how to get the watchdog program when it is missing", () => {
    requireBuild();
    // A copy of the built package without its watchdog, inside the repository so it resolves our node_modules.
    const copy = mkdtempSync(join(ROOT, "test", "support", "reaper-tmp-"));
    try {
      cpSync(join(ROOT, "dist"), join(copy, "dist"), { recursive: true });
      cpSync(join(ROOT, "package.json"), join(copy, "package.json"));
      rmSync(join(copy, "dist", "reaper", "watchdog.js"));
      const script = `
        import { GenericContainer } from ${JSON.stringify(join(copy, "dist", "index.js"))};
        const error = await new GenericContainer(${JSON.stringify(IMAGE)}).start().then(() => undefined, (e) => e);
        process.stdout.write(JSON.stringify({ code: error?.code, shortMessage: error?.shortMessage }));`;
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        // A session of its own: in an existing session's it would (rightly) join that watchdog, not spawn one.
        env: { ...process.env, THROWAWAY_REAPER: "on", THROWAWAY_SESSION_ID: newSessionId() },
      });
      expect(JSON.parse(run.stdout)).toEqual({
        code: "THROWAWAY_REAPER",
        shortMessage: `The reaper's program ${join(copy, "dist", "reaper", "watchdog.js")} is missing: reinstall throwaway, or set THROWAWAY_REAPER=off`,
      });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
