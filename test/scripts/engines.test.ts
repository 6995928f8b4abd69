import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 14: `scripts/engine.sh ensure NAME` provisions one more engine and prints on stdout only the lines that point
// a client at it. The rootless engines are provisioned the same way but not here (they add users and packages that
// CI's matrix does not use).
const ENGINE_SH = fileURLToPath(new URL("../../scripts/engine.sh", import.meta.url));
const CLIENT_LINE = /^(DOCKER_HOST|DOCKER_TLS_VERIFY|DOCKER_CERT_PATH)=\S+$/;

function ensure(name: string): { env: Record<string, string>; stderr: string } {
  const result = spawnSync("bash", [ENGINE_SH, "ensure", name], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  expect({ status: result.status, stderr: result.status === 0 ? "" : result.stderr }).toEqual({ status: 0, stderr: "" });
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(CLIENT_LINE);
  const env = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  return { env, stderr: result.stderr };
}

/** The environment of a docker CLI pointed by the printed lines alone (no DOCKER_* of the test's own). */
function clientEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DOCKER_")));
  return { ...base, ...env };
}

function docker(env: Record<string, string>, ...args: string[]): string {
  return execFileSync("docker", args, { env: clientEnv(env), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }).trim();
}

describe("scripts/engine.sh ensure NAME", () => {
  it("podman: a Podman API service the docker CLI reaches", () => {
    const { env } = ensure("podman");
    expect(env).toEqual({ DOCKER_HOST: "unix:///run/podman/podman.sock" });
    expect(docker(env, "version", "--format", "{{range .Server.Components}}{{.Name}} {{end}}")).toContain("Podman Engine");
  });

  it.each(["remote-tls", "remote-ssh"])("%s: the dockerd of the remote namespace, not the local one", (name) => {
    const { env } = ensure(name);
    if (name === "remote-tls") {
      expect(env).toMatchObject({ DOCKER_HOST: expect.stringMatching(/^tcp:\/\/10\.\d+\.\d+\.\d+:2376$/), DOCKER_TLS_VERIFY: "1" });
      expect(env.DOCKER_CERT_PATH).toBeTruthy();
    } else {
      expect(env.DOCKER_HOST).toMatch(/^ssh:\/\/[a-z-]+@10\.\d+\.\d+\.\d+$/);
    }
    expect(docker(env, "info", "--format", "{{.DockerRootDir}}")).toBe("/var/lib/throwaway-remote/docker");
  });

  it("podman: a stand-in tag holding another image than the one root recorded is removed", () => {
    const { env } = ensure("podman");
    const genuine = execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", "busybox:latest"], { encoding: "utf8" }).trim();
    docker(env, "pull", "-q", "busybox:latest");
    const planted = execFileSync("docker", ["build", "-q", "-t", "busybox:1.36", "-"], {
      env: clientEnv(env),
      input: "FROM busybox:latest\nENV THROWAWAY_PLANTED=1\n",
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    }).trim();
    try {
      expect(planted).not.toContain(genuine.replace("sha256:", ""));
      const { stderr } = ensure("podman");
      expect(stderr).toContain("busybox:1.36");
      const left = spawnSync("docker", ["image", "inspect", "--format", "{{.Id}}", "busybox:1.36"], {
        env: clientEnv(env),
        encoding: "utf8",
      });
      expect(left.status === 0 ? left.stdout.trim() : "gone").toMatch(new RegExp(`^(gone|${genuine})$`));
    } finally {
      const id = spawnSync("docker", ["image", "inspect", "--format", "{{.Id}}", "busybox:1.36"], {
        env: clientEnv(env),
        encoding: "utf8",
      }).stdout.trim();
      if (id && id !== genuine) spawnSync("docker", ["rmi", "busybox:1.36"], { env: clientEnv(env) });
    }
  });
});
