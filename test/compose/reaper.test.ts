// A compose project's containers, network and named volume go with the reaper when the process that started them is
// SIGKILLed (no exit hook runs): the built package in a child process, as users get it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ROOT, requireBuild } from "../reaper/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "throwaway-compose-reaper-"));
const project = `tw-compose-reaped-${randomBytes(4).toString("hex")}`;
let child: ChildProcess | undefined;

beforeAll(() => requireBuild());
afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function left(): string[] {
  const list = (args: string[], format: string) =>
    execFileSync("docker", [...args, "--filter", `label=com.docker.compose.project=${project}`, "--format", format], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  return [...list(["ps", "-a"], "{{.Names}}"), ...list(["network", "ls"], "{{.Name}}"), ...list(["volume", "ls"], "{{.Name}}")];
}

it("the reaper removes a SIGKILLed run's compose containers, network and named volumes", async () => {
  writeFileSync(
    join(dir, "compose.yaml"),
    "services:\n  store:\n    image: busybox\n    command: sleep 600\n    volumes: [data:/data]\nvolumes:\n  data: {}\n",
  );
  const script = `
    const { DockerComposeEnvironment } = await import(${JSON.stringify(`${ROOT}dist/compose/index.js`)});
    await new DockerComposeEnvironment(${JSON.stringify(dir)}, "compose.yaml").withProjectName(${JSON.stringify(project)}).up();
    console.log("up");
    setInterval(() => {}, 1000);
  `;
  const env = { ...process.env, THROWAWAY_SESSION_ID: `compose-reaper-${randomBytes(4).toString("hex")}` };
  child = spawn(process.execPath, ["--input-type=module", "-e", script], { env, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child!.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("up") && resolve());
    child!.once("exit", (code) => reject(new Error(`the child exited with ${code} before it was up`)));
  });
  expect(left().sort()).toEqual([`${project}-store-1`, `${project}_data`, `${project}_default`]);
  child.kill("SIGKILL");
  // The reaper acts about a second after its last client goes; give it ample time on a loaded machine.
  for (let i = 0; i < 100 && left().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(left()).toEqual([]);
});
