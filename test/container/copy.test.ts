import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, getSessionId, InvalidOptionError, LABELS } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const FILE_LABEL = "test.throwaway.file";
const FILE_ID = `copy-${process.pid}-${Date.now()}`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-copy-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function busybox(): GenericContainer {
  return new GenericContainer("busybox:latest").withCommand(IDLE).withLabels({ [FILE_LABEL]: FILE_ID });
}

function ourContainers(): string[] {
  const filters = ["--filter", `label=${LABELS.session}=${getSessionId()}`, "--filter", `label=${FILE_LABEL}=${FILE_ID}`];
  return execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

async function sh(container: { exec(cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> }, script: string) {
  const result = await container.exec(["sh", "-c", script]);
  expect(result.exitCode, `${script}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

describe("symlinked sources are followed, like `docker cp -L`", () => {
  it("a symlinked file is copied as its content; a symlinked folder as its tree (links inside stay links)", async () => {
    const root = join(dir, "links");
    await mkdir(join(root, "real-dir"), { recursive: true });
    await writeFile(join(root, "real.txt"), "real content\n");
    await writeFile(join(root, "real-dir", "inner.txt"), "inner\n");
    await symlink("inner.txt", join(root, "real-dir", "inner-link.txt"));
    await symlink("real.txt", join(root, "link.txt"));
    await symlink("real-dir", join(root, "link-dir"));
    await using c = await busybox()
      .withCopyFilesToContainer([{ source: join(root, "link.txt"), target: "/copied/file.txt" }])
      .withCopyDirectoriesToContainer([{ source: join(root, "link-dir"), target: "/copied/dir" }])
      .start();
    expect(await sh(c, "test ! -L /copied/file.txt && cat /copied/file.txt")).toBe("real content");
    expect(await sh(c, "test ! -L /copied/dir && cat /copied/dir/inner.txt && readlink /copied/dir/inner-link.txt")).toBe(
      "inner\ninner.txt",
    );
  });
});

describe("sources that cannot be copied", () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it.each(["fifo", "socket"])("a %s inside a copied folder is an InvalidOptionError naming its path, and nothing is left", async (kind) => {
    const root = join(dir, `with-${kind}`);
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "a.txt"), "a\n");
    const special = join(root, `the-${kind}`);
    if (kind === "fifo") execFileSync("mkfifo", [special]);
    else {
      server = createServer();
      await new Promise<void>((resolve) => server!.listen(special, resolve));
    }
    const before = ourContainers().length;
    const error = await busybox()
      .withCopyDirectoriesToContainer([{ source: root, target: "/copied" }])
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("withCopyDirectoriesToContainer({ source })");
    expect((error as InvalidOptionError).received).toBe(special);
    expect((error as InvalidOptionError).shortMessage).toContain(kind === "fifo" ? "is a FIFO" : "is a socket");
    expect(ourContainers()).toHaveLength(before);
  });

  it("a missing source names the path; copyToContainer reports the same way", async () => {
    const missing = join(dir, "no-such-file.txt");
    const error = await busybox()
      .withCopyFilesToContainer([{ source: missing, target: "/x.txt" }])
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).received).toBe(missing);
    await using c = await busybox().start();
    const later = await c.copyToContainer([{ kind: "file", source: missing, target: "/x.txt" }]).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(InvalidOptionError);
    expect((later as InvalidOptionError).option).toBe("copyToContainer({ source })");
  });
});

describe("withCopyDirectoriesToContainer({ mode })", () => {
  it("applies to every file copied; folders get it plus the search bit wherever it grants read", async () => {
    const root = join(dir, "modes");
    await mkdir(join(root, "nested"), { recursive: true });
    await writeFile(join(root, "top.txt"), "top\n", { mode: 0o644 });
    await writeFile(join(root, "nested", "deep.sh"), "#!/bin/sh\n", { mode: 0o755 });
    await using c = await busybox()
      .withCopyDirectoriesToContainer([{ source: root, target: "/m", mode: 0o640 }])
      .start();
    expect(await sh(c, "stat -c '%n %a' /m /m/top.txt /m/nested /m/nested/deep.sh")).toBe(
      "/m 750\n/m/top.txt 640\n/m/nested 750\n/m/nested/deep.sh 640",
    );
    // The group the mode lets read can list and read everything (folders kept traversable).
    await sh(c, "chown -R 0:65534 /m");
    const asNobody = await c.exec(["sh", "-c", "ls /m/nested && cat /m/top.txt"], { user: "65534:65534" });
    expect(asNobody).toMatchObject({ exitCode: 0, stdout: "deep.sh\ntop\n" });
  });
});
