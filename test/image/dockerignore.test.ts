import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { GenericContainer, getSessionId, LABELS } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);

/** Lists what `COPY . /ctx` put in the image: path, mode and type of everything, and where symlinks point. */
const LIST_DOCKERFILE = [
  "FROM busybox:latest",
  "COPY . /ctx",
  // %N: the name, and for a symlink where it points (`'./link' -> 'b.txt'`).
  `CMD ["sh", "-c", "cd /ctx && find . -exec stat -c '%N %a %F' {} + | sort"]`,
  "",
].join("\n");

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "throwaway-ignore-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

type Tree = Record<string, string | { mode: number; content: string } | { symlink: string } | { dir: true }>;

async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [path, spec] of Object.entries(tree)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof spec === "string") await writeFile(full, spec);
    else if ("symlink" in spec) await symlink(spec.symlink, full);
    else if ("dir" in spec) await mkdir(full, { recursive: true });
    else {
      await writeFile(full, spec.content);
      await chmod(full, spec.mode);
    }
  }
}

/** What the docker CLI's classic builder puts in the image for this context (the reference behaviour). */
async function listWithDockerCli(context: string, dockerfile?: string): Promise<string> {
  const tag = `throwaway-test/ignore-cli:${process.pid}-${Date.now()}`;
  try {
    await run(
      "docker",
      ["build", "-q", "-t", tag, "--label", `${LABELS.session}=${getSessionId()}`, ...(dockerfile ? ["-f", dockerfile] : []), context],
      { env: { ...process.env, DOCKER_BUILDKIT: "0" } },
    );
    const { stdout } = await run("docker", ["run", "--rm", tag]);
    return stdout;
  } finally {
    await run("docker", ["rmi", "-f", tag]).catch(() => {});
  }
}

async function listWithThrowaway(context: string, dockerfile?: string): Promise<string> {
  const image = await GenericContainer.fromDockerfile(context, dockerfile ? { dockerfile } : {}).buildImage();
  try {
    return (await image.container().run()).stdout;
  } finally {
    await image.remove();
  }
}

const KITCHEN_SINK: Tree = {
  ".dockerignore": [
    "# comments and blank lines are skipped",
    "",
    "*.log",
    "!keep.log",
    "**/*.tmp",
    "build/",
    "docs",
    "!docs/README.md",
    "  secret*  ",
    "/node_modules",
    "src/**/generated",
    "!src/**/generated/keep.ts",
    "./cache/../tmpdir",
    "Dockerfile",
    ".dockerignore",
  ].join("\n"),
  Dockerfile: LIST_DOCKERFILE,
  "a.log": "a",
  "keep.log": "keep",
  "b.txt": "b",
  "x.tmp": "x",
  "deep/a/b/c.tmp": "c",
  "deep/a/b/c.txt": "c",
  "build/out.js": "out",
  "build/sub/x.js": "x",
  "docs/README.md": "readme",
  "docs/guide.md": "guide",
  "secret.env": "s",
  "secrets/x": "s",
  "node_modules/pkg/index.js": "m",
  "lib/node_modules/pkg/index.js": "nested node_modules is not matched by /node_modules",
  "src/app.ts": "app",
  "src/lib/generated/gen.ts": "gen",
  "src/lib/generated/keep.ts": "keep",
  "src/generated/g.ts": "g",
  "tmpdir/t": "t",
  "script.sh": { mode: 0o755, content: "#!/bin/sh\n" },
  "private.key": { mode: 0o600, content: "k" },
  link: { symlink: "b.txt" },
  dirlink: { symlink: "deep" },
  dangling: { symlink: "does/not/exist" },
  ".hidden/file": "h",
  "space name.txt": "s",
  "README.MD": "case matters: *.md patterns do not match",
  "empty-dir": { dir: true },
};

const ALLOW_LIST: Tree = {
  ".dockerignore": ["*", "!src", "!package.json", "!**/*.md", "src/**/*.test.ts", "!src/keep.test.ts"].join("\n"),
  Dockerfile: LIST_DOCKERFILE,
  "package.json": "{}",
  "package-lock.json": "{}",
  "README.md": "r",
  "docs/x.md": "docs is skipped whole: no exception starts with docs/",
  "src/a.ts": "a",
  "src/a.test.ts": "t",
  "src/keep.test.ts": "k",
  "src/deep/b.ts": "b",
  "src/deep/b.test.ts": "t",
  "src/deep/notes.md": "n",
};

describe(".dockerignore, compared with what the docker CLI (classic builder) sends", () => {
  it.each([
    [
      "negation, **, directories, cleaning, modes and symlinks",
      KITCHEN_SINK,
      ["./keep.log 644", "./docs/README.md 644", "./script.sh 755", "./private.key 600", "'./link' -> 'b.txt' 777 symbolic link"],
    ],
    ["an allow list (`*` then exceptions)", ALLOW_LIST, ["./README.md", "./src/keep.test.ts", "./src/deep/notes.md"]],
  ])("%s", async (name, tree, reincluded) => {
    const context = join(scratch, name.replace(/\W+/g, "-"));
    await writeTree(context, tree);
    const [ours, docker] = await Promise.all([listWithThrowaway(context), listWithDockerCli(context)]);
    expect(ours).toBe(docker);
    // The comparison means something only if the rules did exclude and re-include things.
    for (const path of reincluded) expect(ours).toContain(path);
    expect(ours).not.toContain("./Dockerfile");
    expect(ours).not.toContain("./.dockerignore");
  });

  it("a Dockerfile outside the context is sent but never copied", async () => {
    const context = join(scratch, "outside-context");
    await writeTree(context, KITCHEN_SINK);
    const dockerfile = join(scratch, "outside-dockerfiles", "List.Dockerfile");
    await writeTree(dirname(dockerfile), { "List.Dockerfile": LIST_DOCKERFILE });
    const [ours, docker] = await Promise.all([listWithThrowaway(context, dockerfile), listWithDockerCli(context, dockerfile)]);
    expect(ours).toBe(docker);
    expect(ours).not.toMatch(/\.dockerfile\./);
  });

  it("a <Dockerfile>.dockerignore next to the Dockerfile wins over the context's .dockerignore", async () => {
    const context = join(scratch, "specific");
    await writeTree(context, {
      ".dockerignore": "*.txt\n",
      "docker/app.Dockerfile": LIST_DOCKERFILE,
      "docker/app.Dockerfile.dockerignore": "*.md\ndocker\n.dockerignore\n",
      "a.txt": "kept: the context's rules do not apply",
      "b.md": "excluded by the Dockerfile's own rules",
    });
    const listing = await listWithThrowaway(context, "docker/app.Dockerfile");
    expect(listing.split("\n").filter((l) => l.startsWith("./"))).toEqual(["./a.txt 644 regular file"]);
  });
});
