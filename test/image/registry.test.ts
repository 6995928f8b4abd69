import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect, promisify } from "node:util";
import {
  type BuiltImage,
  GenericContainer,
  getEngine,
  ImageBuildError,
  ImagePullError,
  ImagePushError,
  type ProgressEvent,
  RegistryAuthError,
  type ThrowawayError,
} from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRegistry, type TestRegistry } from "./registry-fixture.js";

const run = promisify(execFile);
const RUN = `${process.pid}-${Date.now()}`;

let registry: TestRegistry;
let scratch: string;
let image: BuiltImage;
/** Image references this file put on the engine, removed after. */
const references: string[] = [];

beforeAll(async () => {
  registry = await startTestRegistry();
  scratch = await mkdtemp(join(tmpdir(), "throwaway-registry-ctx-"));
  await writeFile(join(scratch, "Dockerfile"), `FROM busybox:latest\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n`);
  await writeFile(join(scratch, "hello.txt"), `pushed and pulled back ${RUN}\n`);
  image = await GenericContainer.fromDockerfile(scratch).buildImage();
});

afterAll(async () => {
  for (const reference of references) await run("docker", ["rmi", "-f", reference]).catch(() => {});
  await image?.remove().catch(() => {});
  await rm(scratch, { recursive: true, force: true });
  await registry?.stop();
});

/** Everything a user could see of an error: messages, fields, the cause chain. */
function everything(error: unknown): string {
  return `${String(error)}\n${JSON.stringify(error)}\n${inspect(error, { depth: 10, showHidden: true })}`;
}

describe("push and pull with a real registry (docker-registry, htpasswd auth, on 127.0.0.1)", () => {
  it("build, tag, push, remove the local image, pull it back and run it", async () => {
    const reference = `${registry.host}/throwaway-test/app:${RUN}`;
    references.push(reference);
    const tagged = await image.tag(reference);
    expect(tagged.name).toBe(reference);

    const events: ProgressEvent[] = [];
    const auth = { username: registry.username, password: registry.password };
    const pushed = await tagged.push({ auth, onProgress: (e) => events.push(e) });
    expect(pushed.image).toBe(reference);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.kind === "push" && e.image === reference)).toBe(true);
    expect(events.map((e) => e.status)).toContain("Pushed");

    const engine = await getEngine();
    await run("docker", ["rmi", reference]);
    expect(await engine.inspectImage(reference)).toBeUndefined();

    // Credentials from the environment this time, as CI secrets provide them.
    const previous = process.env.DOCKER_AUTH_CONFIG;
    process.env.DOCKER_AUTH_CONFIG = JSON.stringify({
      auths: { [registry.host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString("base64") } },
    });
    try {
      const pulls: ProgressEvent[] = [];
      const result = await new GenericContainer(reference).withPullPolicy("always").run({ onProgress: (e) => pulls.push(e) });
      expect(result.stdout).toBe(`pushed and pulled back ${RUN}\n`);
      expect(pulls.some((e) => e.kind === "pull")).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_AUTH_CONFIG;
      else process.env.DOCKER_AUTH_CONFIG = previous;
    }
  });

  it("pulls a FROM image from a registry that needs a login with the credentials given (X-Registry-Config)", async () => {
    const base = `${registry.host}/throwaway-test/base:${RUN}`;
    references.push(base);
    const auth = { username: registry.username, password: registry.password };
    await (await image.tag(base)).push({ auth });
    await run("docker", ["rmi", base]);

    const context = join(scratch, "from-private");
    await mkdir(context, { recursive: true });
    await writeFile(join(context, "Dockerfile"), `FROM ${base}\nRUN cp /hello.txt /copied.txt\nCMD ["cat", "/copied.txt"]\n`);

    const previousConfig = process.env.DOCKER_CONFIG;
    const previous = process.env.DOCKER_AUTH_CONFIG;
    process.env.DOCKER_CONFIG = scratch; // no config.json there
    process.env.DOCKER_AUTH_CONFIG = "";
    try {
      const refused = (await GenericContainer.fromDockerfile(context)
        .buildImage()
        .catch((e: unknown) => e)) as ImageBuildError;
      expect(refused).toBeInstanceOf(ImageBuildError);
      expect(refused.step).toBe(`FROM ${base}`);
      expect(refused.shortMessage).toMatch(/no basic auth credentials|unauthorized|denied/);

      const built = await GenericContainer.fromDockerfile(context).withRegistryAuth(registry.host, auth).build();
      references.push(built.builtImage.name);
      expect((await built.run()).stdout).toBe(`pushed and pulled back ${RUN}\n`);
      await built.builtImage.remove();
    } finally {
      if (previous === undefined) delete process.env.DOCKER_AUTH_CONFIG;
      else process.env.DOCKER_AUTH_CONFIG = previous;
      if (previousConfig === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = previousConfig;
    }
  });

  it("a wrong password on push is a RegistryAuthError naming registry and image, never the password", async () => {
    const reference = `${registry.host}/throwaway-test/denied:${RUN}`;
    references.push(reference);
    const tagged = await image.tag(reference);
    const wrong = `${registry.password}-wrong`;
    const error = (await tagged
      .push({ auth: { username: registry.username, password: wrong } })
      .catch((e: unknown) => e)) as ThrowawayError;
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.shortMessage).toMatch(
      new RegExp(`^Registry ${registry.host} refused the credentials of user throwaway to push ${reference.replace(/[.]/g, "\\.")}: `),
    );
    expect((error as RegistryAuthError).registry).toBe(registry.host);
    expect(everything(error)).not.toContain(wrong);
    expect(everything(error)).not.toContain(registry.password);
  });

  it("a push without credentials says where they are looked up", async () => {
    const reference = `${registry.host}/throwaway-test/anonymous:${RUN}`;
    references.push(reference);
    const tagged = await image.tag(reference);
    const previous = process.env.DOCKER_AUTH_CONFIG;
    const previousConfig = process.env.DOCKER_CONFIG;
    process.env.DOCKER_AUTH_CONFIG = "";
    process.env.DOCKER_CONFIG = scratch; // no config.json there
    try {
      const error = (await tagged.push().catch((e: unknown) => e)) as ThrowawayError;
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect(error.shortMessage).toContain(`Registry ${registry.host} wants credentials to push ${reference} and none were found`);
      expect(error.shortMessage).toContain(`\`docker login ${registry.host}\``);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_AUTH_CONFIG;
      else process.env.DOCKER_AUTH_CONFIG = previous;
      if (previousConfig === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = previousConfig;
    }
  });

  it("pushing a name the engine does not have is an ImagePushError", async () => {
    const engine = await getEngine();
    const { BuiltImage } = await import("throwaway");
    const ghost = new BuiltImage(engine, {
      id: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      name: `${registry.host}/throwaway-test/ghost:${RUN}`,
      digest: "none",
      cached: false,
      kept: true,
      makeContainer: (name) => new GenericContainer(name),
    });
    const error = (await ghost
      .push({ auth: { username: registry.username, password: registry.password } })
      .catch((e: unknown) => e)) as ThrowawayError;
    expect(error).toBeInstanceOf(ImagePushError);
    expect(error.shortMessage).toContain(`${registry.host}/throwaway-test/ghost:${RUN}`);
  });

  it("a wrong password on pull is a RegistryAuthError, a missing repository an ImagePullError; no password shown", async () => {
    const wrong = `${registry.password}-wrong`;
    const missing = `${registry.host}/throwaway-test/no-such-repository:${RUN}`;
    const denied = (await new GenericContainer(missing)
      .run({ auth: { username: registry.username, password: wrong } })
      .catch((e: unknown) => e)) as ThrowawayError;
    expect(denied).toBeInstanceOf(RegistryAuthError);
    expect(denied.shortMessage).toContain(`Registry ${registry.host} refused the credentials for ${missing}`);
    expect(everything(denied)).not.toContain(wrong);

    const notFound = (await new GenericContainer(missing)
      .run({ auth: { username: registry.username, password: registry.password } })
      .catch((e: unknown) => e)) as ThrowawayError;
    expect(notFound).toBeInstanceOf(ImagePullError);
    expect((notFound as ImagePullError).registry).toBe(registry.host);
    expect(notFound.shortMessage).toContain(`Image ${missing} was not found or access was denied by ${registry.host}`);
    expect(everything(notFound)).not.toContain(registry.password);
  });
});
