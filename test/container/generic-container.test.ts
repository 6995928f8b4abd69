import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addImageSubstitutor,
  ContainerExitedError,
  type ContainerInspect,
  ContainerStartError,
  GenericContainer,
  getEngine,
  getSessionId,
  ImagePullError,
  InvalidOptionError,
  LABELS,
  type ProgressEvent,
  Wait,
} from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { untarToMap } from "../../src/container/copy.js";
import { startTestRegistry } from "../image/registry-fixture.js";

const BUSYBOX = "busybox:latest";
/** Keeps a container alive until it is removed. */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

let hostDir: string;

beforeAll(async () => {
  hostDir = await mkdtemp(join(tmpdir(), "throwaway-gc-"));
  await writeFile(join(hostDir, "hello.txt"), "from the host\n");
});

afterAll(async () => {
  await rm(hostDir, { recursive: true, force: true });
});

// Other test files run at the same time in the same session, so this file counts only the containers it made.
const FILE_LABEL = "test.throwaway.file";
const FILE_ID = `${process.pid}-${Date.now()}`;

/** A busybox container builder carrying this file's label. */
function busybox(image = BUSYBOX): GenericContainer {
  return new GenericContainer(image).withLabels({ [FILE_LABEL]: FILE_ID });
}

function sessionContainers(): string[] {
  const filters = ["--filter", `label=${LABELS.session}=${getSessionId()}`, "--filter", `label=${FILE_LABEL}=${FILE_ID}`];
  const out = execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

async function sh(container: { exec(cmd: string[]): Promise<{ stdout: string; exitCode: number }> }, script: string): Promise<string> {
  const result = await container.exec(["sh", "-c", script]);
  expect(result.exitCode, `${script} failed: ${JSON.stringify(result)}`).toBe(0);
  return result.stdout.trim();
}

describe("GenericContainer options, observed inside the container", () => {
  it("environment, command, working dir, user, hostname, labels and name", async () => {
    const name = `throwaway-test-${Date.now()}`;
    await using c = await busybox()
      .withEnvironment({ GREETING: "hello world", COUNT: 3, FLAG: true })
      .withCommand(IDLE)
      .withWorkingDir("/tmp")
      .withUser("65534:65534")
      .withHostname("box-one")
      .withLabels({ "com.example.team": "payments" })
      .withName(name)
      .start();
    expect(await sh(c, 'echo "$GREETING|$COUNT|$FLAG"')).toBe("hello world|3|true");
    expect(await sh(c, "pwd")).toBe("/tmp");
    expect(await sh(c, "id -u; id -g")).toBe("65534\n65534");
    expect(await sh(c, "hostname")).toBe("box-one");
    expect(c.getName()).toBe(name);
    expect(c.getLabels()).toMatchObject({ "com.example.team": "payments", [FILE_LABEL]: FILE_ID, [LABELS.session]: getSessionId() });
  });

  it("entrypoint replaces the image's", async () => {
    const result = await busybox().withEntrypoint(["echo"]).withCommand(["via", "entrypoint"]).run();
    expect(result).toEqual({ exitCode: 0, stdout: "via entrypoint\n", stderr: "", output: "via entrypoint\n" });
  });

  it("bind mounts (read-write and read-only) and tmpfs", async () => {
    await using c = await busybox()
      .withCommand(IDLE)
      .withBindMounts([
        { source: hostDir, target: "/host" },
        { source: hostDir, target: "/host-ro", mode: "ro" },
      ])
      .withTmpFs({ "/scratch": "rw,size=16m" })
      .start();
    expect(await sh(c, "cat /host/hello.txt")).toBe("from the host");
    await sh(c, "echo written-inside > /host/inside.txt");
    expect(await readFile(join(hostDir, "inside.txt"), "utf8")).toBe("written-inside\n");
    const readOnly = await c.exec(["sh", "-c", "echo x > /host-ro/nope.txt"]);
    expect(readOnly.exitCode).not.toBe(0);
    expect(readOnly.stderr).toMatch(/Read-only file system/);
    expect(await sh(c, "grep ' /scratch ' /proc/mounts")).toMatch(/^tmpfs \/scratch tmpfs rw.*size=16384k/);
  });

  it("copies files, directories (modes and symlinks kept) and content before start", async () => {
    const dir = join(hostDir, "tree");
    await import("node:fs/promises").then(async (fs) => {
      await fs.mkdir(join(dir, "nested"), { recursive: true });
      await fs.writeFile(join(dir, "nested", "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o750 });
      await symlink("nested/run.sh", join(dir, "link.sh"));
    });
    await using c = await busybox()
      .withCommand(IDLE)
      .withCopyFilesToContainer([{ source: join(hostDir, "hello.txt"), target: "/copied/hello.txt", mode: 0o600 }])
      .withCopyDirectoriesToContainer([{ source: dir, target: "/opt/tree" }])
      .withCopyContentToContainer([
        { content: "config=1\n", target: "/etc/app/app.conf" },
        { content: Buffer.from([0, 1, 2, 255]), target: "/etc/app/blob.bin", mode: 0o400 },
      ])
      .start();
    expect(await sh(c, "cat /copied/hello.txt; stat -c %a /copied/hello.txt")).toBe("from the host\n600");
    expect(await sh(c, "stat -c %a /opt/tree/nested/run.sh; /opt/tree/link.sh; readlink /opt/tree/link.sh")).toBe(
      "750\nran\nnested/run.sh",
    );
    expect(await sh(c, "cat /etc/app/app.conf; stat -c '%a %s' /etc/app/blob.bin")).toBe("config=1\n400 4");
  });

  it("copies into a running container and back out (tar round trip)", async () => {
    await using c = await busybox().withCommand(IDLE).start();
    await c.copyToContainer([{ kind: "content", content: "round trip\n", target: "/data/note.txt" }]);
    expect((await c.readFile("/data/note.txt")).toString()).toBe("round trip\n");
    const files = await untarToMap(await c.copyFromContainer("/data"));
    expect([...files.keys()]).toEqual(["data/note.txt"]);
  });

  it("resources, shared memory, extra hosts, capabilities", async () => {
    await using c = await busybox()
      .withCommand(IDLE)
      .withResources({ memoryBytes: 64 * 1024 * 1024, cpus: 0.5 })
      .withSharedMemorySize(32 * 1024 * 1024)
      .withExtraHosts([{ host: "db.internal", ipAddress: "10.1.2.3" }])
      .withDroppedCapabilities("CHOWN")
      .withAddedCapabilities("NET_ADMIN")
      .start();
    const { HostConfig } = c.getInspectResult();
    expect(HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, ShmSize: 32 * 1024 * 1024 });
    const memoryLimit = await sh(c, "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes");
    expect(Number(memoryLimit)).toBe(64 * 1024 * 1024);
    expect(await sh(c, "df -k /dev/shm | tail -1 | awk '{print $2}'")).toBe(String(32 * 1024));
    expect(await sh(c, "grep db.internal /etc/hosts")).toMatch(/^10\.1\.2\.3\s+db\.internal$/);
    const chown = await c.exec(["chown", "65534", "/tmp"]);
    expect(chown.exitCode).not.toBe(0);
    await sh(c, "ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu | grep -x 1400");
  });

  it("privileged mode is off unless asked", async () => {
    // What the engine was asked, read back from the created container before it starts: privileged containers cannot
    // run on every engine (sandboxed ones, like the machines CI runs on, refuse them at start).
    class Observed extends GenericContainer {
      created: ContainerInspect | undefined;
      protected override async containerCreated(id: string): Promise<void> {
        this.created = await (await getEngine()).inspectContainer(id);
      }
    }
    const observed = () => new Observed(BUSYBOX).withLabels({ [FILE_LABEL]: FILE_ID }).withCommand(IDLE);
    const plainBuilder = observed();
    await using plain = await plainBuilder.start();
    expect(plainBuilder.created?.HostConfig.Privileged).toBe(false);
    expect(plain.getInspectResult().HostConfig.Privileged).toBe(false);
    const capEff = async (c: typeof plain) => (await sh(c, "grep CapEff /proc/self/status")).split(/\s+/)[1];
    expect(await capEff(plain)).not.toBe("000001ffffffffff");

    const before = sessionContainers().length;
    const builder = observed().withPrivilegedMode();
    const privileged = await builder.start().catch((e: unknown) => e);
    expect(builder.created?.HostConfig.Privileged).toBe(true);
    if (privileged instanceof ContainerStartError) {
      // Refused at start: the engine's reason, naming the container it created, and nothing left behind.
      expect(privileged.containerId).toBe(builder.created?.Id);
      expect(privileged.shortMessage).toMatch(/^Starting container [0-9a-f]{12} \(.*\) failed: ./);
      expect(sessionContainers()).toHaveLength(before);
    } else {
      await using c = privileged as typeof plain;
      expect(c.getInspectResult().HostConfig.Privileged).toBe(true);
      expect(await capEff(c)).not.toBe(await capEff(plain));
    }
  });

  it("pull policy `always` pulls an image that is already there, for the platform asked for", async () => {
    const pulls: ProgressEvent[] = [];
    await using c = await busybox()
      .withCommand(IDLE)
      .withPlatform("linux/amd64")
      .withPullPolicy("always")
      .start({ onProgress: (e) => pulls.push(e) });
    // The engine's own pull stream: it asked the registry although busybox:latest is here.
    expect(pulls.filter((e) => e.kind === "pull").map((e) => e.status)).toContainEqual(
      expect.stringMatching(/^Status: (Image is up to date|Downloaded newer image) for busybox:latest$/),
    );
    const image = await (await getEngine()).inspectImage(c.getInspectResult().Image);
    expect(image?.Architecture).toBe("amd64");

    // busybox has no windows/amd64 image: only a platform that reached the engine makes the start fail.
    const before = sessionContainers().length;
    const foreign: ProgressEvent[] = [];
    const error = await busybox()
      .withCommand(IDLE)
      .withPlatform("windows/amd64")
      .withPullPolicy("always")
      .start({ onProgress: (e) => foreign.push(e) })
      .catch((e: unknown) => e);
    if (error instanceof ImagePullError) {
      // An engine that resolves the platform at pull time (Docker Hub serves busybox as a multi-platform index).
      expect(error.message).toContain("windows/amd64");
    } else {
      // Docker 20.10 with a single-platform image (the offline mirror): the pull warns, the create refuses.
      expect(foreign.map((e) => e.status)).toContainEqual(
        expect.stringMatching(/does not match the specified platform: wanted windows\/amd64, actual: linux\/amd64$/),
      );
      expect(error).toBeInstanceOf(ContainerStartError);
      expect((error as ContainerStartError).shortMessage).toMatch(
        /^Creating a container from busybox:latest failed: .*does not match the specified platform: wanted windows\/amd64/,
      );
    }
    expect(sessionContainers()).toHaveLength(before);
  });

  it("the raw create options escape hatch edits the body", async () => {
    await using c = await busybox()
      .withCommand(IDLE)
      .withCreateOptions((body) => {
        (body.HostConfig as Record<string, unknown>).ReadonlyRootfs = true;
      })
      .start();
    const write = await c.exec(["sh", "-c", "echo x > /root-file"]);
    expect(write.stderr).toMatch(/Read-only file system/);
  });

  it("an image substitutor rewrites the image before pull and run", async () => {
    let calls = 0;
    const remove = addImageSubstitutor((image) => {
      if (image.registry !== "mirror.invalid") return undefined;
      calls++;
      return BUSYBOX;
    });
    try {
      await using c = await busybox("mirror.invalid/tools/busybox:1").withCommand(IDLE).start();
      expect(c.getImage()).toBe(BUSYBOX);
      expect(calls).toBe(1); // substitutors are user code: asked once per start
    } finally {
      remove();
    }
  });
});

describe("ports", () => {
  it("publishes tcp on random and fixed host ports, and udp", async () => {
    const fixed = 20000 + Math.floor(Math.random() * 20000);
    await using c = await busybox()
      .withCommand(["sh", "-c", "echo hi > /tmp/i && httpd -p 8080 -h /tmp && httpd -f -p 9090 -h /tmp"])
      .withExposedPorts(8080, { container: 9090, host: fixed }, "5353/udp")
      .start();
    expect(c.getMappedPort(9090)).toBe(fixed);
    expect(c.getMappedPort("5353/udp")).toBeGreaterThan(0);
    expect(c.getFirstMappedPort()).toBe(c.getMappedPort(8080));
    for (const port of [c.getMappedPort(8080), fixed]) {
      expect(await (await fetch(`http://${c.getHost()}:${port}/i`)).text()).toBe("hi\n");
    }
    expect(() => c.getMappedPort(1234)).toThrow("Expected `getMappedPort` to be an exposed port (8080/tcp, 9090/tcp, 5353/udp)");
  });

  it("publishes on loopback only for a local engine", async () => {
    await using c = await busybox()
      .withCommand(IDLE)
      .withExposedPorts("7000/tcp")
      .withWaitStrategy({
        describe: () => "nothing",
        waitUntilReady: async () => {},
        withStartupTimeout() {
          return this;
        },
        startupTimeoutMs: undefined,
      })
      .start();
    const bindings = c.getInspectResult().NetworkSettings.Ports?.["7000/tcp"];
    expect(bindings).toEqual([{ HostIp: "127.0.0.1", HostPort: String(c.getMappedPort(7000)) }]);
  });
});

describe("exec, logs, restart, stop", () => {
  it("exec returns exit codes and output, takes env, working dir and user, and never shells an array", async () => {
    await using c = await busybox().withCommand(IDLE).start();
    // stdout and stderr are copied by separate engine goroutines: spaced a little so `output` has a defined order.
    expect(await c.exec(["sh", "-c", "echo out; sleep 0.1; echo err >&2; exit 7"])).toEqual({
      stdout: "out\n",
      stderr: "err\n",
      output: "out\nerr\n",
      exitCode: 7,
    });
    expect((await c.exec(["echo", "$HOME;", "not expanded"])).stdout).toBe("$HOME; not expanded\n");
    expect((await c.exec("echo $X from a shell", { env: { X: "value" } })).stdout).toBe("value from a shell\n");
    expect((await c.exec(["pwd"], { workingDir: "/etc" })).stdout).toBe("/etc\n");
    expect((await c.exec(["id", "-u"], { user: "65534" })).stdout).toBe("65534\n");
    // The engine reports a command it cannot even start with 126 (it never reaches a shell that would say 127).
    expect((await c.exec(["no-such-binary"])).exitCode).toBe(126);
  });

  it("exec stops waiting when its signal aborts", async () => {
    await using c = await busybox().withCommand(IDLE).start();
    const controller = new AbortController();
    const pending = c.exec(["sleep", "30"], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("test gave up")), 200);
    await expect(pending).rejects.toThrow("test gave up");
  });

  it("logs: all, tail, since and follow", async () => {
    await using c = await busybox()
      // The engine copies stdout and stderr separately, so lines of the two streams are spaced to keep their order.
      .withCommand(["sh", "-c", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 1; echo four; sleep 60"])
      .withWaitStrategy(Wait.forLogMessage("three"))
      .start();
    const collect = async (stream: AsyncIterable<unknown>, limit = Number.POSITIVE_INFINITY) => {
      const lines: string[] = [];
      for await (const line of stream) {
        lines.push(String(line));
        if (lines.length >= limit) break;
      }
      return lines;
    };
    expect(await collect(await c.logs())).toEqual(["one", "two", "three"]);
    expect(await collect(await c.logs({ tail: 1 }))).toEqual(["three"]);
    expect(await collect(await c.logs({ since: new Date(Date.now() + 60_000) }))).toEqual([]);
    expect(await collect(await c.logs({ follow: true }), 4)).toEqual(["one", "two", "three", "four"]);
  });

  it("a log consumer receives every line from start on", async () => {
    const lines: string[] = [];
    await using c = await busybox()
      .withCommand(["sh", "-c", "echo first; echo second >&2; echo ready; sleep 60"])
      .withLogConsumer(({ line }) => lines.push(line))
      .withWaitStrategy(Wait.forLogMessage("ready"))
      .start();
    await expect.poll(() => lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.sort()).toEqual(["first", "ready", "second"]);
    expect(c.getId()).toBeTruthy();
  });

  it("a health check makes the default wait `healthy`", async () => {
    await using c = await busybox()
      .withCommand(["sh", "-c", "sleep 1; touch /tmp/ok; sleep 60"])
      .withHealthCheck({ test: ["CMD", "test", "-f", "/tmp/ok"], intervalMs: 100, retries: 50 })
      .start();
    const inspect = await (await getEngine()).inspectContainer(c.getId());
    expect(inspect.State.Health?.Status).toBe("healthy");
  });

  it("restart re-reads port bindings and waits again; data in the container survives", async () => {
    await using c = await busybox()
      .withCommand(["sh", "-c", "mkdir -p /www && date +%s%N >> /www/starts && httpd -f -p 8080 -h /www"])
      .withExposedPorts(8080)
      .start();
    await c.restart();
    const body = await (await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/starts`)).text();
    expect(body.trim().split("\n")).toHaveLength(2);
  });

  it("stop is idempotent, removes by default, and can keep the container for inspection", async () => {
    const c = await busybox().withCommand(IDLE).start();
    const [a, b] = await Promise.all([c.stop(), c.stop()]);
    expect(a).toBe(b);
    expect(a.removed).toBe(true);
    expect(sessionContainers()).not.toContain(c.getId().slice(0, 12));

    const kept = await busybox().withCommand(["sh", "-c", "echo saved > /out.txt; sleep 60"]).start();
    const stopped = await kept.stop({ remove: false, timeout: 1 });
    expect(stopped.removed).toBe(false);
    const files = await untarToMap(await stopped.copyFromContainer("/out.txt"));
    expect(files.get("out.txt")?.toString()).toBe("saved\n");
    await stopped.remove();
    const engine = await getEngine();
    await expect(engine.inspectContainer(kept.getId())).rejects.toMatchObject({ statusCode: 404 });
  });

  it("a one-shot run returns exit code and output, and removes the container", async () => {
    const before = sessionContainers().length;
    const result = await busybox().withCommand(["sh", "-c", "echo hi; sleep 0.1; echo oops >&2; exit 3"]).run();
    expect(result).toEqual({ exitCode: 3, stdout: "hi\n", stderr: "oops\n", output: "hi\noops\n" });
    expect(sessionContainers()).toHaveLength(before);
  });
});

describe("bad input and failed starts", () => {
  it.each([
    [() => busybox().withExposedPorts(70000), "Expected `withExposedPorts` to be a port 1-65535"],
    [
      () => busybox().withStartupTimeout(-5),
      "Expected `withStartupTimeout` to be a duration in milliseconds from 1 to 2147483647, got `-5` (number): durations are whole milliseconds, e.g. 30000 for 30 s",
    ],
    [
      () => busybox().withBindMounts([{ source: "relative/dir", target: "/x" }]),
      'Expected `withBindMounts({ source })` to be an absolute path, got `"relative/dir"` (string): resolve it first, e.g. path.resolve("relative/dir")',
    ],
    [() => busybox("Busybox"), "repository names must be lowercase: use `busybox`"],
    [() => busybox().withCommand("echo hi" as unknown as string[]), "Expected `withCommand` to be an array of strings"],
    [() => busybox().withNetworkAliases("db"), "Expected `withNetworkAliases` to be used together with withNetwork"],
    [() => busybox().withLabels({ [LABELS.session]: "x" }), "reserved `dev.throwaway.` namespace"],
  ])("%#: throws InvalidOptionError before creating anything", async (build, message) => {
    const before = sessionContainers().length;
    const error = await build()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toContain(message);
    expect(sessionContainers()).toHaveLength(before);
  });

  it("a start the engine refuses is a ContainerStartError with the engine's text, and nothing is left behind", async () => {
    const before = sessionContainers().length;
    const error = await busybox()
      .withCommand(["/no/such/binary"])
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerStartError);
    expect((error as ContainerStartError).shortMessage).toMatch(
      /^Starting container [0-9a-f]{12} \(busybox:latest\) failed: .*no such file or directory/,
    );
    expect(sessionContainers()).toHaveLength(before);
  });

  it("a missing image fails at once with the image and registry named", async () => {
    // A real registry on loopback (Debian's docker-registry), which has no such repository.
    const registry = await startTestRegistry();
    const before = sessionContainers().length;
    try {
      const reference = `${registry.host}/throwaway-test/does-not-exist:1`;
      const error = await busybox(reference)
        .start()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImagePullError);
      expect((error as ImagePullError).registry).toBe(registry.host);
      expect((error as ImagePullError).shortMessage).toMatch(
        new RegExp(
          `^Image ${reference.replace(/[.]/g, "\\.")} was not found or access was denied by ${registry.host.replace(/[.]/g, "\\.")}: .*\\(check the name and tag, or log in with \`docker login ${registry.host.replace(/[.]/g, "\\.")}\`\\)$`,
        ),
      );
      expect(sessionContainers()).toHaveLength(before);
    } finally {
      await registry.stop();
    }
  });
});

describe("engine budget and reuse", () => {
  it("a plain start with a port wait makes at most 5 Engine API calls", async () => {
    const engine = await getEngine();
    await busybox()
      .withCommand(IDLE)
      .start()
      .then((c) => c.stop()); // warm the image
    const before = engine.apiCalls;
    const c = await busybox().withCommand(["httpd", "-f", "-p", "8080"]).withExposedPorts(8080).start();
    const calls = engine.apiCalls - before;
    await c.stop();
    expect(calls).toBeLessThanOrEqual(5);
  });

  it("reuses a container with the same configuration and not one with a different configuration", async () => {
    const config = () =>
      busybox()
        .withCommand(IDLE)
        .withEnvironment({ REUSE_TEST: String(process.pid) })
        .withReuse();
    const first = await config().start();
    try {
      const second = await config().start();
      expect(second.getId()).toBe(first.getId());
      await second.stop(); // leaves it running: it is reused
      const third = await config().withEnvironment({ OTHER: "1" }).start();
      try {
        expect(third.getId()).not.toBe(first.getId());
      } finally {
        await third.stop({ remove: true });
      }
      const stillThere = await (await getEngine()).inspectContainer(first.getId());
      expect(stillThere.State.Running).toBe(true);
      expect(stillThere.Config.Labels?.[LABELS.keep]).toBe("true");
    } finally {
      await first.stop({ remove: true });
    }
  });

  it("a reusable container that never became ready is removed, not kept for the next run", async () => {
    const before = sessionContainers().length;
    const error = await busybox()
      .withCommand(["sh", "-c", "exit 3"])
      .withEnvironment({ REUSE_FAIL: `${process.pid}-${Date.now()}` })
      .withExposedPorts(8080)
      .withReuse()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerExitedError);
    expect((error as ContainerExitedError).message).toContain("The container was removed");
    expect(sessionContainers()).toHaveLength(before);
  });

  it("connects to the mapped port from the host right after start", async () => {
    await using c = await busybox().withCommand(["nc", "-ll", "-p", "7777", "-e", "echo", "pong"]).withExposedPorts(7777).start();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: c.getHost(), port: c.getMappedPort(7777) });
      let data = "";
      socket.on("data", (d) => (data += d));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(reply).toBe("pong\n");
  });
});
