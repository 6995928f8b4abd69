// The throwaway command against this engine (DOCKER_HOST is inherited by the child): up, ps, down, prune.
import { describe, expect, it } from "vitest";
import { idsWithLabel, removeProject, requireBuild, runCli, startCli, unique } from "../support/cli-up/cli-child.js";
import { traits } from "./profile.js";

const BASIC = "test/support/cli-up/basic.fixtures.ts";

describe(`the CLI on ${traits.description}`, () => {
  it("up --keep starts the fixtures, ps lists them, down removes them; prune --dry-run finds nothing of a live run", async () => {
    requireBuild();
    const project = unique("engines-cli");
    try {
      const up = startCli(["up", BASIC, "--project", project, "--keep"], { session: unique("engines-up") });
      await up.waitFor(/^ticker +\| tick \d+$/m, "stdout");
      const port = Number(/^ {2}port 8080 +(\d+)$/m.exec(up.stdout())?.[1]);
      const host = /^ {2}host +(\S+)$/m.exec(up.stdout())?.[1];
      if (traits.remote) expect(host).not.toBe("127.0.0.1");
      expect(await (await fetch(`http://${host}:${port}/`)).text()).toBe("hello from web\n");
      up.process.kill("SIGINT");
      await up.ended;
      expect(idsWithLabel(`dev.throwaway.project=${project}`).containers).toHaveLength(2);

      const ps = await runCli(["ps"]);
      expect(ps.code).toBe(0);
      const down = await runCli(["down", "--project", project]);
      expect(down.code).toBe(0);
      expect(idsWithLabel(`dev.throwaway.project=${project}`)).toEqual({ containers: [], networks: [] });

      const prune = await runCli(["prune", "--dry-run"]);
      expect(prune.code).toBe(0);
    } finally {
      removeProject(project);
    }
  });
});
