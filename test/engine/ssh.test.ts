import { existsSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Engine, GenericContainer, setEngine, Wait } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineEndpoint, parseDockerHost } from "../../src/engine/discovery.js";
import { sshSettings } from "../../src/engine/ssh.js";
import { type SshdFixture, sshdUnavailable, startSshd } from "./sshd-fixture.js";

const BUSYBOX = "busybox:latest";
type SshEndpoint = Extract<EngineEndpoint, { kind: "ssh" }>;

let sshd: SshdFixture;
const saved = { config: process.env.THROWAWAY_SSH_CONFIG };

/** An engine reached as `ssh://root@127.0.0.1:PORT`, through the system ssh client with `configFile`. */
function sshEngine(configFile: string): Engine {
  process.env.THROWAWAY_SSH_CONFIG = configFile;
  return new Engine(parseDockerHost(sshd.url, "DOCKER_HOST"));
}

const noSshd = sshdUnavailable();
if (noSshd) console.log(`skipping the ssh:// engine tests: ${noSshd}`);

describe.skipIf(noSshd !== undefined)("ssh:// engines (system ssh + docker system dial-stdio)", () => {
  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    setEngine(undefined);
    if (saved.config === undefined) delete process.env.THROWAWAY_SSH_CONFIG;
    else process.env.THROWAWAY_SSH_CONFIG = saved.config;
    await sshd?.stop();
  });

  it("starts, execs into, follows the logs of and stops a container, one ssh login serving many calls", async () => {
    const engine = sshEngine(sshd.configFile);
    const consumed: string[] = [];
    setEngine(engine);
    try {
      // The log wait follows the logs (a stream); exec is an upgraded (hijacked) connection.
      const container = await new GenericContainer(BUSYBOX)
        .withNetworkMode("none")
        .withCommand(["sh", "-c", "echo ready; trap 'exit 0' TERM; while true; do echo tick; sleep 1; done"])
        .withWaitStrategy(Wait.forLogMessage("ready"))
        // Attached before start: an upgraded connection of its own.
        .withLogConsumer(({ line }) => consumed.push(line))
        .start();
      try {
        expect(container.getHost()).toBe("127.0.0.1");
        const result = await container.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
        expect(result).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 3 });
        const lines: string[] = [];
        for await (const line of await container.logs({ follow: true })) {
          lines.push(String(line));
          if (lines.includes("tick")) break;
        }
        expect(lines[0]).toBe("ready");
        await expect.poll(() => consumed.slice(0, 2)).toEqual(["ready", "tick"]);
      } finally {
        await container.stop();
      }
      expect(engine.endpoint.kind).toBe("ssh");
      // Every call went through sshd; kept-alive connections mean far fewer ssh logins than calls.
      expect(sshd.acceptedConnections()).toBeGreaterThan(0);
      expect(sshd.acceptedConnections()).toBeLessThan(engine.apiCalls);
      // With ssh's connection sharing (used unless ~/.ssh cannot hold its socket), one login serves them all.
      if (sshSettings(parseDockerHost(sshd.url, "x") as SshEndpoint, sshd.configFile).multiplexArgs.length > 0) {
        expect(sshd.acceptedConnections()).toBe(1);
      }
    } finally {
      setEngine(undefined);
      engine.close();
    }
  });

  it("takes the user, port and address of a host alias from the ssh config, and getHost() is that address", async () => {
    const aliased = `${sshd.configFile}.alias`;
    await writeFile(
      aliased,
      `Host throwaway-test-engine\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n\n${await readFile(sshd.configFile, "utf8")}`,
    );
    process.env.THROWAWAY_SSH_CONFIG = aliased;
    const engine = new Engine(parseDockerHost("ssh://throwaway-test-engine", "DOCKER_HOST"));
    try {
      await engine.ping();
      expect(engine.host).toBe("127.0.0.1");
      expect(engine.describe()).toBe("ssh://throwaway-test-engine (DOCKER_HOST)");
    } finally {
      engine.close();
      await rm(aliased, { force: true });
    }
  });
});

/**
 * The remote-ssh engine (`scripts/engine.sh ensure remote-ssh`: a dockerd in a network namespace of its own behind
 * sshd, its key and host key in root's ~/.ssh), when the run was handed one (remote-ssh.env in the folder
 * THROWAWAY_ENGINES_READY_DIR names, as `.ci/run` sets it): reached with nothing but the user's ssh config.
 */
const READY_DIR = process.env.THROWAWAY_ENGINES_READY_DIR;
const REMOTE_SSH_ENV = READY_DIR ? join(READY_DIR, "remote-ssh.env") : undefined;
const remoteSshHost =
  REMOTE_SSH_ENV && existsSync(REMOTE_SSH_ENV) ? /^DOCKER_HOST=(ssh:\/\/\S+)$/m.exec(readFileSync(REMOTE_SSH_ENV, "utf8"))?.[1] : undefined;
if (!remoteSshHost)
  console.log(`skipping the real ssh engine test: no remote-ssh.env in THROWAWAY_ENGINES_READY_DIR (${READY_DIR ?? "unset"}); see .ci/run`);

describe.skipIf(!remoteSshHost)("a real remote engine over ssh (remote-ssh)", () => {
  it("starts, execs into and stops a container with the user's own ssh config", async () => {
    const config = process.env.THROWAWAY_SSH_CONFIG;
    delete process.env.THROWAWAY_SSH_CONFIG;
    const engine = new Engine(parseDockerHost(remoteSshHost!, "DOCKER_HOST"));
    if (config !== undefined) process.env.THROWAWAY_SSH_CONFIG = config;
    setEngine(engine);
    try {
      const container = await new GenericContainer(BUSYBOX)
        .withCommand(["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
        .start();
      try {
        expect(container.getHost()).toBe(new URL(remoteSshHost!).hostname);
        expect((await container.exec(["echo", "over ssh"])).stdout).toBe("over ssh\n");
      } finally {
        await container.stop();
      }
    } finally {
      setEngine(undefined);
      engine.close();
    }
  });
});
