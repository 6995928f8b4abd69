import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { GenericContainer, getEngine } from "throwaway";
import { describe, expect, it } from "vitest";
import { startKeptNetwork } from "../../src/cli/up/keep.js";
import { FIXTURE_LABELS } from "../../src/fixtures/labels.js";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
const exists = (id: string) => {
  try {
    docker("container", "inspect", "--format", "{{.Id}}", id);
    return true;
  } catch {
    return false;
  }
};

describe("throwaway up --keep replacing a changed network", () => {
  it("removes only this project's containers on it and disconnects the others (another project's, anyone's)", async () => {
    const engine = await getEngine();
    const project = `keep-net-${randomBytes(4).toString("hex")}`;
    const notes: string[] = [];
    const first = await startKeptNetwork(engine, { labels: { version: "1" } }, project, "net", (text) => notes.push(text));
    let foreign = "";
    let second: Awaited<ReturnType<typeof startKeptNetwork>> | undefined;
    try {
      const ours = await new GenericContainer("busybox:latest")
        .withCommand(["sleep", "3600"])
        .withNetwork(first)
        .withCreateOptions((body) => {
          body.Labels = { ...(body.Labels as Record<string, string>), [FIXTURE_LABELS.project]: project, [FIXTURE_LABELS.fixture]: "app" };
        })
        .start();
      // Someone else's container on the kept network: none of our labels.
      foreign = docker("run", "-d", "--network", first.getId(), "busybox:latest", "sleep", "3600");

      second = await startKeptNetwork(engine, { labels: { version: "2" } }, project, "net", (text) => notes.push(text));
      expect(second.getId()).not.toBe(first.getId());
      expect(exists(ours.getId())).toBe(false);
      expect(exists(foreign)).toBe(true);
      const networks = docker("container", "inspect", "--format", "{{json .NetworkSettings.Networks}}", foreign);
      expect(networks).not.toContain(first.getId());
      expect(notes.join("\n")).toContain(`disconnected 1 other container (${foreign.slice(0, 12)})`);
    } finally {
      if (foreign && exists(foreign)) docker("rm", "-f", foreign);
      await engine.removeNetwork(first.getId()).catch(() => {});
      if (second) await engine.removeNetwork(second.getId());
    }
  });
});
