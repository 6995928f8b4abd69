import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 17, item 3: the offline mirror that root's dockerd uses for every Docker Hub pull must not take pushes from
// anyone who lacks root's route, and the stand-ins must be checked by digest (a label can be copied by anyone).
const IMAGES_SH = fileURLToPath(new URL("../../scripts/images.sh", import.meta.url));
const MIRROR = "127.0.0.1:5000";
const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the local registry mirror", () => {
  it("refuses a push that does not come through root's push route", async () => {
    const response = await fetch(`http://${MIRROR}/v2/throwaway-probe/planted/blobs/uploads/`, { method: "POST" });
    const location = response.headers.get("location");
    // Today's mirror accepts it (202 with an upload URL): cancel that upload so nothing is left in the store.
    if (location) await fetch(new URL(location, `http://${MIRROR}`), { method: "DELETE" }).catch(() => undefined);
    expect(response.status).not.toBe(202);
    expect([401, 403, 405]).toContain(response.status);
  });
});

/** A plain, writable registry on a free port: the stand-in for a mirror someone already wrote into. */
async function startPlainRegistry(dir: string): Promise<{ host: string; child: ChildProcess }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
  const host = `127.0.0.1:${port}`;
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      "",
    ].join("\n"),
  );
  const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { host, child };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the test registry did not answer on ${host}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("scripts/images.sh verify", () => {
  let dir: string;
  let registry: { host: string; child: ChildProcess };
  const pushed: string[] = [];
  let genuineId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "throwaway-mirror-test-"));
    registry = await startPlainRegistry(dir);
    genuineId = docker("image", "inspect", "--format", "{{.Id}}", "busybox:latest").trim();
  });

  afterAll(() => {
    for (const ref of pushed) spawnSync("docker", ["rmi", ref], { stdio: "ignore" });
    registry?.child.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // The digests root recorded when it pushed: in the test, the ids the engine's stand-ins have now.
  function recordDigests(digests: string): void {
    execFileSync("bash", [IMAGES_SH, "record", "busybox"], {
      env: { ...process.env, THROWAWAY_REGISTRY: "", THROWAWAY_DIGESTS: digests },
      stdio: ["ignore", "ignore", "pipe"],
    });
    expect(readFileSync(join(digests, "busybox:latest"), "utf8").trim()).toBe(genuineId);
  }

  function pushAs(tag: string, source: string): void {
    const ref = `${registry.host}/library/busybox:${tag}`;
    docker("tag", source, ref);
    pushed.push(ref);
    docker("push", ref);
  }

  function verify(digests: string) {
    return spawnSync("bash", [IMAGES_SH, "verify", "busybox"], {
      env: { ...process.env, THROWAWAY_REGISTRY: registry.host, THROWAWAY_DIGESTS: digests },
      encoding: "utf8",
    });
  }

  it("accepts the stand-ins root pushed and detects one planted with their labels but another digest", () => {
    const digests = join(dir, "digests");
    recordDigests(digests);
    pushAs("latest", "busybox:latest");
    pushAs("1.36", "busybox:latest");
    const genuine = verify(digests);
    expect({ status: genuine.status, stderr: genuine.stderr }).toEqual({ status: 0, stderr: "" });

    // The plant: every label copied from the stand-in, so a label check cannot tell it apart.
    const labels = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", "busybox:latest")) as Record<
      string,
      string
    >;
    const planted = `${registry.host}/library/busybox:planted`;
    const labelArgs = Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    execFileSync("docker", ["build", "-q", "-t", planted, ...labelArgs, "-"], {
      input: "FROM busybox:latest\nENV THROWAWAY_PLANTED=1\n",
      stdio: ["pipe", "ignore", "pipe"],
    });
    pushed.push(planted);
    expect(JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", planted))).toEqual(labels);
    pushAs("latest", planted);

    const result = verify(digests);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("busybox:latest");
    expect(result.stderr).toContain(genuineId);
    expect(result.stderr).not.toContain("busybox:1.36");
  });
});
