import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ProgressEvent } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildOutput, fields } from "../../src/engine/build.js";
import { composeSend, contextDigest, prepareContext } from "../../src/image/build-context.js";
import { appendToStage, expandArgs, parseStages } from "../../src/image/build-dockerfile.js";

const FIXTURES = resolve(import.meta.dirname, "../support");

describe("BuildOutput (classic builder stream)", () => {
  it("assembles lines split across records, tracks the step and the error", () => {
    const events: ProgressEvent[] = [];
    const output = new BuildOutput("app:1", (e) => events.push(e));
    for (const record of [
      { stream: "Step 1/3 : FROM busybox:latest" },
      { stream: "\n" },
      { stream: " ---> f25899a305ea\n" },
      { stream: "Step 2/3 : RUN echo one && false" },
      { stream: "\n ---> Running in 522cdacfe2e6\none\n" },
      { stream: "\u001b[91mtwo on stderr\n\u001b[0m" },
      { errorDetail: { code: 1, message: "The command '/bin/sh -c echo one && false' returned a non-zero code: 1" }, error: "x" },
    ]) {
      output.push(record);
    }
    expect(output.lines).toEqual([
      "Step 1/3 : FROM busybox:latest",
      " ---> f25899a305ea",
      "Step 2/3 : RUN echo one && false",
      " ---> Running in 522cdacfe2e6",
      "one",
      "two on stderr",
    ]);
    expect(events.map((e) => e.status)).toEqual(output.lines);
    expect(output.step).toEqual({ position: "2", instruction: "RUN echo one && false" });
    expect(output.stepText()).toBe(" at step 2 `RUN echo one && false`");
    expect(output.error).toBe("The command '/bin/sh -c echo one && false' returned a non-zero code: 1");
  });

  it("reads the image id and knows which layers it made", () => {
    const output = new BuildOutput("app:1", undefined);
    for (const stream of [
      "Step 1/5 : FROM busybox:latest AS build\n",
      " ---> f25899a305ea\n",
      "Step 2/5 : RUN make\n",
      " ---> Using cache\n",
      " ---> 1111111111aa\n",
      "Step 3/5 : COPY . /src\n",
      " ---> 2222222222bb\n",
      "Step 4/5 : FROM busybox:latest\n",
      " ---> f25899a305ea\n",
      "Step 5/5 : COPY --from=build /src /src\n",
      " ---> 3333333333cc\n",
    ]) {
      output.push({ stream });
    }
    output.push({ aux: { ID: "sha256:3333333333cc" } });
    expect(output.imageId).toBe("sha256:3333333333cc");
    // The first stage's last layer is made here and referenced by nothing once the build ends.
    expect(output.leftovers).toEqual(["2222222222bb"]);
  });

  it("quotes the Dockerfile line a parse error points at", () => {
    const output = new BuildOutput("app:1", undefined);
    output.fail("dockerfile parse error line 2: unknown instruction: RUNN", "FROM busybox\nRUNN echo hi\n");
    expect(output.stepText()).toBe(" at line 2 `RUNN echo hi`");
  });
});

describe("BuildOutput (BuildKit trace)", () => {
  it("decodes the recorded trace of a failing build into lines and the failed step", async () => {
    const records = (await readFile(join(FIXTURES, "build-trace/buildkit-run-false.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const output = new BuildOutput("app:1", undefined);
    for (const record of records) output.push(record);
    expect(output.lines).toContain("[2/3] RUN echo hi-from-run");
    expect(output.lines).toContain("hi-from-run");
    expect(output.lines).toContain("[3/3] RUN false: ERROR: executor failed running [/bin/sh -c false]: exit code: 1");
    expect(output.step).toEqual({ position: "3", instruction: "RUN false" });
    expect(output.error).toBe("executor failed running [/bin/sh -c false]: exit code: 1");
  });

  it("reads protobuf fields: varints, strings and nested messages", () => {
    // field 1 (varint) = 300, field 3 (bytes) = "hi"
    const message = Buffer.from([0x08, 0xac, 0x02, 0x1a, 0x02, 0x68, 0x69]);
    expect([...fields(message)].map((f) => [f.number, f.varint ?? f.bytes?.toString()])).toEqual([
      [1, 300],
      [3, "hi"],
    ]);
    expect(() => [...fields(Buffer.from([0x1a, 0x05, 0x68]))]).toThrow("truncated field");
  });
});

describe("Dockerfile reading", () => {
  const dockerfile = [
    "# escape=\\",
    "ARG BASE=busybox:latest",
    "ARG TAG",
    `FROM \${BASE} AS Build`,
    "RUN echo a \\",
    "  && echo b",
    `FROM --platform=linux/amd64 registry.example.com:5000/team/runtime:\${TAG:-1.0} as runtime`,
    "COPY --from=build /a /a",
    "FROM build",
    "FROM scratch",
    "",
  ].join("\n");

  it("lists stages with build args applied, and which pull images", () => {
    expect(parseStages(dockerfile, { TAG: "2.0" })).toEqual([
      { from: "busybox:latest", name: "build", internal: false },
      { from: "registry.example.com:5000/team/runtime:2.0", name: "runtime", internal: false },
      { from: "build", name: undefined, internal: true },
      { from: "scratch", name: undefined, internal: true },
    ]);
    expect(parseStages(dockerfile)[1]?.from).toBe("registry.example.com:5000/team/runtime:1.0");
  });

  it("expands braced and bare names, :- and :+", () => {
    expect(expandArgs(`$A/\${B}:\${C:-dflt}\${D:+-x}`, { A: "a", B: "b", D: "d" })).toBe("a/b:dflt-x");
  });

  it("appends instructions to the end of a stage, continuation lines included", () => {
    expect(appendToStage(dockerfile, "LABEL x=1", 0).split("\n").slice(4, 8)).toEqual([
      "RUN echo a \\",
      "  && echo b",
      "LABEL x=1",
      `FROM --platform=linux/amd64 registry.example.com:5000/team/runtime:\${TAG:-1.0} as runtime`,
    ]);
    expect(appendToStage("FROM a\nRUN b\n\n\n", "LABEL x=1")).toBe("FROM a\nRUN b\nLABEL x=1\n");
  });

  it("joins a LABEL line to the LABEL instruction a stage ends with (no step of its own), and only then", () => {
    expect(appendToStage('FROM a\nRUN b\nLABEL org.x="y" \\\n  org.z=w\n\n', 'LABEL "k"="v"')).toBe(
      'FROM a\nRUN b\nLABEL org.x="y" \\\n  org.z=w "k"="v"\n',
    );
    // A LABEL earlier in the stage stays as it is: joining it would change the steps after it.
    expect(appendToStage("FROM a\nLABEL x=1\nRUN b\n", 'LABEL "k"="v"')).toBe('FROM a\nLABEL x=1\nRUN b\nLABEL "k"="v"\n');
    // The stage asked for, not the file's last one.
    expect(appendToStage("FROM a AS one\nLABEL x=1\nFROM b\nLABEL y=2\n", 'LABEL "k"="v"', 0)).toBe(
      'FROM a AS one\nLABEL x=1 "k"="v"\nFROM b\nLABEL y=2\n',
    );
    // Other instructions are never joined.
    expect(appendToStage("FROM a\nLABEL x=1\n", "ENV k=v")).toBe("FROM a\nLABEL x=1\nENV k=v\n");
  });
});

describe("build context and digest", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "throwaway-digest-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function context(name: string, files: Record<string, string>): Promise<string> {
    const root = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, ".."), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }

  it("is the same for the same content anywhere, and changes with content, mode, links and settings", async () => {
    const files = { Dockerfile: "FROM busybox\nCOPY . /app\n", "src/a.txt": "a", ".dockerignore": "*.log\n", "x.log": "ignored" };
    const one = await context("one", files);
    const two = await context("two", files);
    const digest = async (root: string, settings: unknown = {}) => contextDigest(await prepareContext(root, undefined), settings);
    const base = await digest(one);
    expect(await digest(two)).toBe(base);

    await writeFile(join(two, "x.log"), "ignored files do not count");
    expect(await digest(two)).toBe(base);
    await utimes(join(two, "src/a.txt"), new Date(0), new Date(0));
    expect(await digest(two)).toBe(base); // mtimes are not content

    await writeFile(join(two, "src/a.txt"), "b");
    expect(await digest(two)).not.toBe(base);
    await writeFile(join(two, "src/a.txt"), "a");
    expect(await digest(two)).toBe(base);

    await chmod(join(two, "src/a.txt"), 0o755);
    expect(await digest(two)).not.toBe(base);
    await chmod(join(two, "src/a.txt"), 0o644);

    await symlink("a.txt", join(two, "src/link"));
    const withLink = await digest(two);
    expect(withLink).not.toBe(base);
    await rm(join(two, "src/link"));
    await symlink("elsewhere", join(two, "src/link"));
    expect(await digest(two)).not.toBe(withLink);
    await rm(join(two, "src/link"));

    expect(await digest(two, { buildargs: { A: "1" } })).not.toBe(base);
    expect(await digest(two)).toBe(base);
  });

  it("sends a generated Dockerfile with the appended step only when COPY cannot tell", async () => {
    const plain = await prepareContext(await context("plain", { Dockerfile: "FROM busybox\n", "a.txt": "a" }), undefined);
    const sent = composeSend(plain, 'LABEL "k"="v"');
    expect(sent.injected).toBe(true);
    expect(sent.dockerfileName).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/);
    const generated = sent.entries.find((e) => e.name === sent.dockerfileName);
    expect(generated?.content?.toString()).toBe('FROM busybox\nLABEL "k"="v"\n');
    // The made .dockerignore names itself and the generated file, so the engine drops both before COPY.
    expect(sent.entries.find((e) => e.name === ".dockerignore")?.content?.toString()).toBe(`.dockerignore\n${sent.dockerfileName}\n`);
    expect(sent.entries.map((e) => e.name)).toContain("Dockerfile");

    // A .dockerignore that COPY would copy must stay as the user wrote it: the labels go through the API instead.
    const copied = await prepareContext(await context("copied", { Dockerfile: "FROM busybox\n", ".dockerignore": "*.log\n" }), undefined);
    expect(composeSend(copied, 'LABEL "k"="v"')).toMatchObject({ injected: false, dockerfileName: "Dockerfile" });
  });
});
