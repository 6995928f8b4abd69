import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type BuiltImage,
  EngineRequestError,
  GenericContainer,
  getEngine,
  getSessionId,
  ImageBuildError,
  InvalidOptionError,
  LABELS,
  type ProgressEvent,
} from "throwaway";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runBuild } from "../../src/engine/build.js";
import { composeSend, prepareContext, tarContext } from "../../src/image/build-context.js";
import { trackedResources } from "../../src/reaper/tracker.js";

const FIXTURES = resolve(import.meta.dirname, "../support");
/** A per-run marker in every Dockerfile this file writes, so its builds never hit images of earlier runs. */
const RUN = `${process.pid}-${Date.now()}`;

const built: BuiltImage[] = [];
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "throwaway-build-"));
});

afterAll(async () => {
  // Newest first: an image built on another must go before it.
  for (const image of built.reverse()) await image.remove();
  await rm(scratch, { recursive: true, force: true });
});

/** Writes a context directory from a map of path to content. */
async function writeContext(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await import("node:fs/promises").then((fs) => fs.mkdir(join(full, ".."), { recursive: true }));
    await writeFile(full, content);
  }
  return dir;
}

describe("GenericContainer.fromDockerfile", () => {
  it("passes build args and stops at the target stage", async () => {
    const container = await GenericContainer.fromDockerfile(join(FIXTURES, "build-stages"))
      .withBuildArgs({ GREETING: `hi-from-args-${RUN}` })
      .withTarget("test")
      .withLabels({ "org.example.team": "platform" })
      .build();
    built.push(container.builtImage);

    const result = await container.withCommand(["cat", "/greeting", "/stage", "/message.txt"]).run();
    expect(result.stdout).toBe(`hi-from-args-${RUN}\ntest-stage\nfrom the context\n`);

    const engine = await getEngine();
    const inspect = await engine.inspectImage(container.builtImage.id);
    expect(inspect?.Config?.Labels).toMatchObject({
      "org.example.team": "platform",
      [LABELS.session]: getSessionId(),
      [LABELS.buildDigest]: container.builtImage.digest,
    });
    expect(container.builtImage.name).toBe(`localhost/throwaway/build-stages:${container.builtImage.digest.slice(0, 20)}`);
    // Throwaway builds are removed at teardown.
    expect(trackedResources().some((r) => r.kind === "image" && r.id === container.builtImage.id)).toBe(true);
  });

  it("builds the last stage without a target, for the platform asked for", async () => {
    const engine = await getEngine();
    const arch = { x86_64: "amd64", aarch64: "arm64" }[(await engine.info()).Architecture] ?? "amd64";
    const image = await GenericContainer.fromDockerfile(join(FIXTURES, "build-stages"), {
      buildArgs: { GREETING: `other-${RUN}` },
      platform: `linux/${arch}`,
    }).buildImage();
    built.push(image);
    const result = await image.container().run();
    expect(result.stdout).toBe(`other-${RUN}\nfinal-stage\nfrom the context\n`);
    expect(await engine.inspectImage(image.id)).toMatchObject({ Os: "linux", Architecture: arch });
  });

  it("returns the cached image without sending the context, and rebuilds after a file changes", async () => {
    const dir = await writeContext("cache", {
      Dockerfile: `FROM busybox:latest\n# ${RUN}\nCOPY app.txt /app.txt\nCMD ["cat", "/app.txt"]\n`,
      "app.txt": "version 1\n",
    });
    const engine = await getEngine();
    const first = await GenericContainer.fromDockerfile(dir).buildImage();
    built.push(first);
    expect(first.cached).toBe(false);

    const buildStream = vi.spyOn(engine, "buildStream");
    try {
      const callsBefore = engine.apiCalls;
      const second = await GenericContainer.fromDockerfile(dir).buildImage();
      // The cache lookup, and beside it the base image's id: a base that changed makes the entry stale.
      expect(engine.apiCalls - callsBefore).toBe(2);
      expect(buildStream).not.toHaveBeenCalled();
      expect(second).toMatchObject({ id: first.id, name: first.name, digest: first.digest, cached: true });

      // Same size, same second: only the content differs.
      await writeFile(join(dir, "app.txt"), "version 2\n");
      const third = await GenericContainer.fromDockerfile(dir).buildImage();
      built.push(third);
      expect(buildStream).toHaveBeenCalledTimes(1);
      expect(third.cached).toBe(false);
      expect(third.digest).not.toBe(first.digest);
      expect((await third.container().run()).stdout).toBe("version 2\n");
    } finally {
      buildStream.mockRestore();
    }
  });

  it("builds again when a FROM image changed on the engine", async () => {
    const engine = await getEngine();
    const base = `throwaway-test/base-${RUN}`;
    const variant = await GenericContainer.fromDockerfile(
      await writeContext("base-variant", { Dockerfile: `FROM busybox:latest\nRUN echo second > /base.txt\n` }),
    ).buildImage();
    built.push(variant);
    const dir = await writeContext("on-base", {
      Dockerfile: `FROM ${base}:1\nCMD ["sh", "-c", "cat /base.txt 2>/dev/null || echo first"]\n`,
    });
    try {
      await engine.tagImage("busybox:latest", base, "1");
      const first = await GenericContainer.fromDockerfile(dir).buildImage();
      built.push(first);
      expect((await first.container().run()).stdout).toBe("first\n");

      await engine.tagImage(variant.id, base, "1");
      const second = await GenericContainer.fromDockerfile(dir).buildImage();
      built.push(second);
      expect(second.digest).toBe(first.digest); // the context did not change...
      expect(second.cached).toBe(false); // ...but the base did
      expect((await second.container().run()).stdout).toBe("second\n");
    } finally {
      await engine.removeImage(`${base}:1`);
    }
  });

  it("streams the build output line by line to the listener", async () => {
    const dir = await writeContext("progress", {
      Dockerfile: `FROM busybox:latest\nRUN echo "first line ${RUN}" && echo "second line"\n`,
    });
    const events: ProgressEvent[] = [];
    const image = await GenericContainer.fromDockerfile(dir).buildImage(undefined, { onProgress: (e) => events.push(e) });
    built.push(image);
    const lines = events.map((e) => e.status);
    expect(events.every((e) => e.kind === "build" && e.image === image.name)).toBe(true);
    expect(lines).toContain("Step 1/3 : FROM busybox:latest");
    expect(lines).toContain(`Step 2/3 : RUN echo "first line ${RUN}" && echo "second line"`);
    // The labels travel as one appended step, not one step per label.
    expect(lines.filter((l) => /^Step \d+\/\d+ : LABEL /.test(l))).toHaveLength(1);
    expect(lines).toContain(`first line ${RUN}`);
    expect(lines).toContain("second line");
  });

  it("labels a Dockerfile that ends with LABEL without a step of its own, and finds it in the cache after", async () => {
    const dir = await writeContext("trailing-label", {
      Dockerfile: `FROM busybox:latest\nRUN echo "${RUN}" > /marker\nLABEL org.example.run="${RUN}"\n`,
    });
    const events: ProgressEvent[] = [];
    const image = await GenericContainer.fromDockerfile(dir).buildImage(undefined, { onProgress: (e) => events.push(e) });
    built.push(image);
    const steps = events.map((e) => e.status).filter((l) => /^Step \d+\/\d+ : /.test(l));
    // The classic builder runs a container for every instruction: the Dockerfile's three, none added.
    expect(steps).toEqual([
      "Step 1/3 : FROM busybox:latest",
      `Step 2/3 : RUN echo "${RUN}" > /marker`,
      expect.stringMatching(new RegExp(`^Step 3/3 : LABEL org.example.run="${RUN}" "dev.throwaway.`)),
    ]);
    const labels = (await (await getEngine()).inspectImage(image.id))?.Config?.Labels ?? {};
    expect(labels["org.example.run"]).toBe(RUN);
    expect(labels[LABELS.buildDigest]).toBe(image.digest);
    expect(labels[LABELS.session]).toBe(getSessionId());
    const again = await GenericContainer.fromDockerfile(dir).buildImage();
    expect({ cached: again.cached, id: again.id }).toEqual({ cached: true, id: image.id });
  });

  it("throws ImageBuildError naming the failed step, the engine's text and the last output lines", async () => {
    const engine = await getEngine();
    const before = new Set((await engine.listContainers({})).map((c) => c.Id));
    const tag = `throwaway-test/broken:${RUN}`;
    const error = await GenericContainer.fromDockerfile(join(FIXTURES, "build-broken"))
      .build(tag, { keep: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageBuildError);
    const buildError = error as ImageBuildError;
    expect(buildError.shortMessage).toBe(
      `Building ${tag} failed at step 3 \`RUN echo "about to fail" && ls /does-not-exist\`: ` +
        `The command '/bin/sh -c echo "about to fail" && ls /does-not-exist' returned a non-zero code: 1`,
    );
    expect(buildError.step).toBe('RUN echo "about to fail" && ls /does-not-exist');
    expect(buildError.output).toContain("about to fail");
    // The classic builder colours stderr; the colour codes are gone.
    expect(buildError.output.split("\n")).toContain("ls: /does-not-exist: No such file or directory");
    expect(buildError.message).toContain("Last lines of the build output:");
    // forcerm: the failed step's container is gone.
    const leftover = (await engine.listContainers({})).filter((c) => !before.has(c.Id) && c.Image.startsWith("sha256:"));
    expect(leftover.filter((c) => /does-not-exist/.test(JSON.stringify(c)))).toEqual([]);
    expect(await engine.inspectImage(tag)).toBeUndefined();
  });

  it("quotes the line of a Dockerfile the engine cannot parse", async () => {
    const dir = await writeContext("unparsable", { Dockerfile: `FROM busybox:latest\nRUNN echo ${RUN}\n` });
    const error = (await GenericContainer.fromDockerfile(dir)
      .buildImage()
      .catch((e: unknown) => e)) as ImageBuildError;
    expect(error).toBeInstanceOf(ImageBuildError);
    expect(error.step).toBe(`RUNN echo ${RUN}`);
    expect(error.shortMessage).toMatch(/failed at line 2 `RUNN echo .*`: dockerfile parse error line 2: unknown instruction: RUNN/);
  });

  it("fails before sending anything for a missing context, Dockerfile or target stage", async () => {
    await expect(GenericContainer.fromDockerfile(join(scratch, "nope")).build()).rejects.toThrow(
      new InvalidOptionError("fromDockerfile(context)", "the path of an existing directory", join(scratch, "nope"), {
        hint: `nothing exists at ${join(scratch, "nope")}`,
      }).message,
    );
    await expect(GenericContainer.fromDockerfile(join(FIXTURES, "build-stages"), "Nope.Dockerfile").build()).rejects.toThrow(
      /Expected `withDockerfile` to be the path of an existing Dockerfile, got `"Nope.Dockerfile"` \(string\): no file at .*Nope\.Dockerfile/,
    );
    await expect(GenericContainer.fromDockerfile(join(FIXTURES, "build-stages")).withTarget("prod").build()).rejects.toThrow(
      /Expected `withTarget` to be a stage of .*Dockerfile \(base, test, final\), got `"prod"` \(string\)/,
    );
    await expect(
      GenericContainer.fromDockerfile(join(FIXTURES, "build-stages"))
        .withLabels({ [LABELS.keep]: "true" })
        .build(),
    ).rejects.toThrow("Expected `withLabels` to be keys outside the reserved `dev.throwaway.` namespace");
    await expect(GenericContainer.fromDockerfile(join(FIXTURES, "build-stages")).withPlatform("amd64").build()).rejects.toThrow(
      'Expected `withPlatform` to be `os/arch[/variant]`, e.g. `linux/amd64`, got `"amd64"` (string)',
    );
  });

  it("keeps a tagged image out of the session and finds it again by its tag", async () => {
    const dir = await writeContext("kept", { Dockerfile: `FROM busybox:latest\nLABEL run=${RUN}\n` });
    const tag = `throwaway-test/kept:${RUN}`;
    const image = await GenericContainer.fromDockerfile(dir).buildImage(tag);
    built.push(image);
    expect(image).toMatchObject({ name: tag, kept: true, cached: false });
    const engine = await getEngine();
    const labels = (await engine.inspectImage(tag))?.Config?.Labels ?? {};
    expect(labels[LABELS.keep]).toBe("true");
    expect(labels[LABELS.session]).toBeUndefined();
    expect(trackedResources().some((r) => r.id === image.id)).toBe(false);

    const again = await GenericContainer.fromDockerfile(dir).buildImage(tag);
    expect(again).toMatchObject({ id: image.id, cached: true });
    // A throwaway build of the same content may use the kept image: it outlives the session anyway.
    const throwaway = await GenericContainer.fromDockerfile(dir).buildImage();
    expect(throwaway).toMatchObject({ id: image.id, cached: true });
  });

  it("builds with BuildKit on request: args, target, labels and output lines", async () => {
    const events: ProgressEvent[] = [];
    const container = await GenericContainer.fromDockerfile(join(FIXTURES, "build-stages"))
      .withBuildKit()
      .withBuildArgs({ GREETING: `buildkit-${RUN}` })
      .withTarget("test")
      .build(undefined, { onProgress: (e) => events.push(e) });
    built.push(container.builtImage);
    const result = await container.withCommand(["cat", "/greeting", "/stage"]).run();
    expect(result.stdout).toBe(`buildkit-${RUN}\ntest-stage\n`);
    const engine = await getEngine();
    expect((await engine.inspectImage(container.builtImage.id))?.Config?.Labels).toMatchObject({
      [LABELS.session]: getSessionId(),
      [LABELS.buildDigest]: container.builtImage.digest,
    });
    const lines = events.map((e) => e.status);
    expect(lines.some((l) => /^\[test 1\/1\] RUN echo test-stage > \/stage$/.test(l))).toBe(true);
  });

  it("names the failed step of a BuildKit build", async () => {
    const error = (await GenericContainer.fromDockerfile(join(FIXTURES, "build-broken"))
      .withBuildKit()
      .buildImage()
      .catch((e: unknown) => e)) as ImageBuildError;
    expect(error).toBeInstanceOf(ImageBuildError);
    expect(error.step).toBe('RUN echo "about to fail" && ls /does-not-exist');
    expect(error.shortMessage).toMatch(/ failed at step 3 `RUN echo "about to fail" && ls \/does-not-exist`: .*exit code: 1/);
    expect(error.output).toContain("about to fail");
    expect(error.output).toContain("ls: /does-not-exist: No such file or directory");
  });

  it("builds once when the same build is asked for twice at the same time", async () => {
    const dir = await writeContext("concurrent", { Dockerfile: `FROM busybox:latest\nRUN echo ${RUN}-concurrent\n` });
    const engine = await getEngine();
    const buildStream = vi.spyOn(engine, "buildStream");
    try {
      const [a, b] = await Promise.all([
        GenericContainer.fromDockerfile(dir).buildImage(),
        GenericContainer.fromDockerfile(dir).buildImage(),
      ]);
      built.push(a);
      expect(buildStream).toHaveBeenCalledTimes(1);
      expect(b.id).toBe(a.id);
      expect([a.cached, b.cached].sort()).toEqual([false, true]);
    } finally {
      buildStream.mockRestore();
    }
  });

  it("a build that outlasts its timeout fails naming the step, and the engine stops it", async () => {
    const marker = `sleep-${RUN}`;
    const dir = await writeContext("slow", { Dockerfile: `FROM busybox:latest\nRUN echo ${marker} && sleep 60\n` });
    const error = (await GenericContainer.fromDockerfile(dir)
      .withBuildTimeout(1500)
      .buildImage()
      .catch((e: unknown) => e)) as ImageBuildError;
    expect(error).toBeInstanceOf(ImageBuildError);
    expect(error.shortMessage).toMatch(
      new RegExp(`^Building localhost/throwaway/slow:[0-9a-f]{20} timed out after 1500 ms at step 2 \`RUN echo ${marker} && sleep 60\` `),
    );
    expect(error.shortMessage).toContain("(raise it with withBuildTimeout or THROWAWAY_BUILD_TIMEOUT)");
    // The engine cancels a build whose client went away, and forcerm removes the step's container.
    const engine = await getEngine();
    const running = async () => (await engine.listContainers({})).filter((c) => JSON.stringify(c).includes(marker));
    const deadline = Date.now() + 30_000;
    while ((await running()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await running()).toEqual([]);
  });

  it("a context file that vanishes while it is sent fails the build instead of hanging it", async () => {
    const dir = await writeContext("vanishing", { Dockerfile: "FROM busybox:latest\nCOPY . /ctx\n", "gone.txt": "soon gone" });
    const prepared = await prepareContext(dir, undefined);
    const toSend = composeSend(prepared);
    await rm(join(dir, "gone.txt"));
    const engine = await getEngine();
    const error = (await runBuild(engine, {
      context: tarContext(toSend.entries),
      query: { t: `throwaway-test/vanishing:${RUN}`, dockerfile: toSend.dockerfileName, rm: true, forcerm: true },
      image: `throwaway-test/vanishing:${RUN}`,
      contextDir: dir,
      timeoutMs: 60_000,
    }).catch((e: unknown) => e)) as ImageBuildError;
    expect(error).toBeInstanceOf(ImageBuildError);
    expect(error.shortMessage).toMatch(
      new RegExp(
        `^Sending the build context ${dir} for throwaway-test/vanishing:${RUN} failed: ENOENT: no such file or directory, open '.*gone\\.txt'`,
      ),
    );
    expect(await engine.inspectImage(`throwaway-test/vanishing:${RUN}`)).toBeUndefined();
  });

  it("removes the image with remove()", async () => {
    const dir = await writeContext("remove", { Dockerfile: `FROM busybox:latest\nLABEL run=${RUN}-remove\n` });
    const image = await GenericContainer.fromDockerfile(dir).buildImage();
    const engine = await getEngine();
    expect(await engine.inspectImage(image.id)).toBeDefined();
    await image.remove();
    expect(await engine.inspectImage(image.id)).toBeUndefined();
    expect(trackedResources().some((r) => r.id === image.id)).toBe(false);
  });

  it("an image a running container uses is reported kept, with the engine's reason, not counted as removed", async () => {
    const image = await GenericContainer.fromDockerfile(
      await writeContext("in-use", { Dockerfile: `FROM busybox:latest\nLABEL run=${RUN}-in-use\n` }),
    ).buildImage();
    const engine = await getEngine();
    try {
      await using _running = await new GenericContainer(image.id).withCommand(["sleep", "3600"]).start();
      const result = await engine.removeImage(image.id);
      expect(result.outcome).toBe("kept");
      expect(result.outcome === "kept" && result.statusCode).toBe(409);
      expect(result.outcome === "kept" && result.reason).toContain("running container");
      const error = (await image.remove().catch((e: unknown) => e)) as EngineRequestError;
      expect(error).toBeInstanceOf(EngineRequestError);
      expect(error.statusCode).toBe(409);
      expect(error.shortMessage).toMatch(
        new RegExp(`^Image ${image.name} \\(${image.id.slice(7, 19)}\\) was kept by the engine: .*running container`),
      );
      expect(await engine.inspectImage(image.id)).toBeDefined();
    } finally {
      await image.remove();
    }
    expect(await engine.removeImage(image.id)).toEqual({ outcome: "absent" });
  });

  it("says so when remove() cannot remove an image others were built on", async () => {
    const parent = await GenericContainer.fromDockerfile(
      await writeContext("parent", { Dockerfile: `FROM busybox:latest\nRUN echo ${RUN} > /parent\n` }),
    ).buildImage();
    const child = await GenericContainer.fromDockerfile(
      await writeContext("child", { Dockerfile: `FROM ${parent.name}\nRUN echo child > /child\n` }),
    ).buildImage();
    try {
      const error = (await parent.remove().catch((e: unknown) => e)) as EngineRequestError;
      expect(error.statusCode).toBe(409);
      expect(error.shortMessage).toMatch(
        new RegExp(`^Image ${parent.name} \\(${parent.id.slice(7, 19)}\\) was kept by the engine: .*child images`),
      );
    } finally {
      await child.remove();
      await parent.remove();
    }
    expect(await (await getEngine()).inspectImage(parent.id)).toBeUndefined();
  });
});
