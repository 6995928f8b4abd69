import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GenericContainer, getEngine } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushImage } from "../../src/engine/push.js";
import { ImageName } from "../../src/image/image-name.js";
import { startTestRegistry, type TestRegistry } from "./registry-fixture.js";

const run = promisify(execFile);
const RUN = `${process.pid}-${Date.now()}`;
// Five `~` and five `?` in a row: wherever they fall, one 3-byte group is `~~~` (standard base64 `fn5+`) and one
// is `???` (`Pz8/`), characters the engine's URL-safe decoder refuses. `>` likewise gives `+` at other offsets.
const PASSWORD = `pw~~~~~?????>>>>>-${RUN}`;

let registry: TestRegistry;
let scratch: string;
const references: string[] = [];

beforeAll(async () => {
  registry = await startTestRegistry({ password: PASSWORD });
  scratch = await mkdtemp(join(tmpdir(), "throwaway-registry-encoding-"));
});

afterAll(async () => {
  for (const reference of references) await run("docker", ["rmi", "-f", reference]).catch(() => {});
  await rm(scratch, { recursive: true, force: true });
  await registry?.stop();
});

describe("registry credentials reach the engine intact, whatever the password holds", () => {
  it("a build whose FROM needs a login pulls it with a password full of `~`, `?` and `>` (X-Registry-Config is URL-safe base64)", async () => {
    const auth = { username: registry.username, password: registry.password };
    expect(Buffer.from(JSON.stringify({ [registry.host]: { ...auth, serveraddress: registry.host } })).toString("base64")).toMatch(/[+/]/);
    const base = `${registry.host}/throwaway-test/encoding-base:${RUN}`;
    references.push(base);
    const engine = await getEngine();
    await engine.tagImage("busybox:latest", `${registry.host}/throwaway-test/encoding-base`, RUN);
    // The push sends X-Registry-Auth: it must be URL-safe too, or this fails already.
    await pushImage(engine, ImageName.parse(base, "test"), { auth, timeoutMs: 60_000 });
    await run("docker", ["rmi", base]);

    const context = join(scratch, "from-private");
    await run("mkdir", ["-p", context]);
    await writeFile(join(context, "Dockerfile"), `FROM ${base}\nRUN echo built-${RUN} > /built.txt\nCMD ["cat", "/built.txt"]\n`);
    const built = await GenericContainer.fromDockerfile(context).withRegistryAuth(registry.host, auth).build();
    references.push(built.builtImage.name);
    expect((await built.run()).stdout).toBe(`built-${RUN}\n`);
    await built.builtImage.remove();
  });
});
