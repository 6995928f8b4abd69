// fromDockerfile on any engine: the context upload, build args and labels (Podman's compat build API handles each
// its own way), and the image removed at the run's end.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, getEngine, LABELS } from "throwaway";
import { describe, expect, it } from "vitest";
import { traits } from "./profile.js";

describe(`fromDockerfile on ${traits.description}`, () => {
  it("sends the context, passes build args and labels, and runs the image it built", async () => {
    const dir = mkdtempSync(join(tmpdir(), "engines-build-"));
    try {
      writeFileSync(
        join(dir, "Dockerfile"),
        'FROM busybox:latest\nARG GREETING=unset\nCOPY greeting.txt /greeting.txt\nRUN echo "$GREETING" > /arg.txt\nCMD ["sh", "-c", "cat /greeting.txt /arg.txt"]\n',
      );
      writeFileSync(join(dir, "greeting.txt"), "from the context\n");
      writeFileSync(join(dir, ".dockerignore"), "secret.txt\n");
      writeFileSync(join(dir, "secret.txt"), "must not be sent\n");
      await using image = await GenericContainer.fromDockerfile(dir)
        .withBuildArgs({ GREETING: "from a build arg" })
        .withLabels({ "test.engines": "yes" })
        .buildImage();
      const inspect = await (await getEngine()).inspectImage(image.getId());
      expect(inspect?.Config?.Labels).toMatchObject({ "test.engines": "yes", [LABELS.session]: expect.any(String) });
      expect(await image.container().run()).toMatchObject({ exitCode: 0, stdout: "from the context\nfrom a build arg\n" });
      const ignored = await image.container().withCommand(["ls", "/"]).run();
      expect(ignored.stdout).not.toContain("secret.txt");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
