// Copy ownership (uid/gid on every kind of copy) and tar archives copied in, before start and into a running
// container, observed with stat inside the real container.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tar from "tar-stream";
import { GenericContainer, Wait } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
let hostDir: string;

beforeAll(async () => {
  hostDir = await mkdtemp(join(tmpdir(), "throwaway-copy-owner-"));
  await writeFile(join(hostDir, "a.txt"), "a\n");
  await writeFile(join(hostDir, "b.txt"), "b\n");
});

afterAll(async () => {
  await rm(hostDir, { recursive: true, force: true });
});

function idle() {
  return new GenericContainer("busybox:latest").withCommand(IDLE).withWaitStrategy(Wait.forSuccessfulCommand(["true"]));
}

/** A tar archive (as a Buffer) of `files`, each owned by 123:456. */
async function archive(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o640, uid: 123, gid: 456 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function stat(c: { exec(cmd: string[]): Promise<{ stdout: string }> }, paths: string[]): Promise<string[]> {
  const { stdout } = await c.exec(["stat", "-c", "%n %u:%g %a", ...paths]);
  return stdout.trim().split("\n");
}

describe("copy ownership and archives", () => {
  it("uid and gid apply to files, whole directories and content, before start and into a running container", async () => {
    await using c = await idle()
      .withCopyFilesToContainer([{ source: join(hostDir, "a.txt"), target: "/owned/file.txt", uid: 1000, gid: 1001 }])
      .withCopyDirectoriesToContainer([{ source: hostDir, target: "/owned/dir", uid: 2000, gid: 2001 }])
      .withCopyContentToContainer([
        { content: "x", target: "/owned/content.txt", uid: 3000 },
        { content: "y", target: "/owned/root.txt" },
      ])
      .start();
    await c.copyToContainer([{ kind: "content", content: "z", target: "/owned/later.txt", uid: 4000, gid: 4001 }]);
    expect(
      await stat(c, ["/owned/file.txt", "/owned/dir", "/owned/dir/b.txt", "/owned/content.txt", "/owned/root.txt", "/owned/later.txt"]),
    ).toEqual([
      "/owned/file.txt 1000:1001 644",
      "/owned/dir 2000:2001 700",
      "/owned/dir/b.txt 2000:2001 644",
      "/owned/content.txt 3000:0 644",
      "/owned/root.txt 0:0 644",
      "/owned/later.txt 4000:4001 644",
    ]);
  });

  it("tar archives are extracted into existing directories before start and into a running container", async () => {
    await using c = await idle()
      .withCopyArchivesToContainer([{ tar: await archive({ "first.txt": "one\n", "sub/second.txt": "two\n" }), target: "/tmp" }])
      .start();
    await c.copyArchiveToContainer(await archive({ "third.txt": "three\n" }), "/etc");
    expect(await stat(c, ["/tmp/first.txt", "/tmp/sub/second.txt", "/etc/third.txt"])).toEqual([
      "/tmp/first.txt 123:456 640",
      "/tmp/sub/second.txt 123:456 640",
      "/etc/third.txt 123:456 640",
    ]);
    expect((await c.exec(["cat", "/tmp/first.txt", "/tmp/sub/second.txt", "/etc/third.txt"])).stdout).toBe("one\ntwo\nthree\n");
  });
});

describe("reuse and copies", () => {
  it("two reusable configurations that differ only in a copy's owner are different containers", async () => {
    // One value for both, so only the owner tells them apart.
    const run = `${process.pid}-${Date.now()}`;
    const config = (uid: number) =>
      idle()
        .withEnvironment({ OWNER_REUSE_TEST: run })
        .withCopyContentToContainer([{ content: "x", target: "/owned.txt", uid }])
        .withReuse();
    const a = await config(1).start();
    try {
      const b = await config(2).start();
      try {
        expect(b.getId()).not.toBe(a.getId());
        expect((await b.exec(["stat", "-c", "%u", "/owned.txt"])).stdout.trim()).toBe("2");
      } finally {
        await b.stop({ remove: true });
      }
    } finally {
      await a.stop({ remove: true });
    }
  });
});
