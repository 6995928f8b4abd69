import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, type StartedContainer } from "throwaway";
import { afterAll, beforeAll, expect, it } from "vitest";

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const KEY = `reuse-hash-${process.pid}-${Date.now()}`;

let dir: string;
const started: StartedContainer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-reuse-hash-"));
});

afterAll(async () => {
  for (const c of started) await c.stop({ remove: true });
  await rm(dir, { recursive: true, force: true });
});

it("editing a copied file (same path) starts a fresh reusable container; an unchanged one is reused", async () => {
  const file = join(dir, "app.conf");
  const folder = join(dir, "conf.d");
  await writeFile(file, "version=1\n");
  await import("node:fs/promises").then((fs) => fs.mkdir(folder));
  await writeFile(join(folder, "extra.conf"), "a=1\n");
  const config = () =>
    new GenericContainer("busybox:latest")
      .withCommand(IDLE)
      .withEnvironment({ KEY })
      .withCopyFilesToContainer([{ source: file, target: "/etc/app.conf" }])
      .withCopyDirectoriesToContainer([{ source: folder, target: "/etc/conf.d" }])
      .withReuse();
  const first = await config().start();
  started.push(first);
  const same = await config().start();
  expect(same.getId()).toBe(first.getId());

  await writeFile(file, "version=2\n");
  const afterFileEdit = await config().start();
  started.push(afterFileEdit);
  expect(afterFileEdit.getId()).not.toBe(first.getId());
  expect((await afterFileEdit.readFile("/etc/app.conf")).toString()).toBe("version=2\n");

  await writeFile(join(folder, "extra.conf"), "a=2\n");
  const afterFolderEdit = await config().start();
  started.push(afterFolderEdit);
  expect(afterFolderEdit.getId()).not.toBe(afterFileEdit.getId());
});

it("withCreateOptions callbacks run once per start, with or without reuse", async () => {
  let calls = 0;
  const build = () =>
    new GenericContainer("busybox:latest")
      .withCommand(IDLE)
      .withEnvironment({ KEY: `${KEY}-modifiers` })
      .withCreateOptions((body) => {
        calls++;
        (body.Labels as Record<string, string>)["test.throwaway.modified"] = "yes";
      });
  const plain = await build().start();
  started.push(plain);
  expect(calls).toBe(1);
  const reusable = await build().withReuse().start();
  started.push(reusable);
  expect(calls).toBe(2);
  expect(reusable.getLabels()["test.throwaway.modified"]).toBe("yes");
});
