// An ssh:// engine whose host key does not verify is refused at the key check, before any engine is reached: a local
// sshd stands in (its logins would run `docker system dial-stdio`; none happens). The engine over ssh is ssh.test.ts.
import { Engine, EngineHostKeyError } from "throwaway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDockerHost } from "../../src/engine/discovery.js";
import { type SshdFixture, sshdUnavailable, startSshd } from "./sshd-fixture.js";

let sshd: SshdFixture;
const saved = { config: process.env.THROWAWAY_SSH_CONFIG };

/** An engine reached as `ssh://root@127.0.0.1:PORT`, through the system ssh client with `configFile`. */
function sshEngine(configFile: string): Engine {
  process.env.THROWAWAY_SSH_CONFIG = configFile;
  return new Engine(parseDockerHost(sshd.url, "DOCKER_HOST"));
}

const noSshd = sshdUnavailable();
if (noSshd) console.log(`skipping the ssh:// host key tests: ${noSshd}`);

describe.skipIf(noSshd !== undefined)("ssh:// engines (system ssh + docker system dial-stdio)", () => {
  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    if (saved.config === undefined) delete process.env.THROWAWAY_SSH_CONFIG;
    else process.env.THROWAWAY_SSH_CONFIG = saved.config;
    await sshd?.stop();
  });

  it.each([
    ["a host key that does not match known_hosts", () => sshd.wrongKeyConfigFile],
    ["a host not in known_hosts", () => sshd.unknownHostConfigFile],
  ])("refuses %s with a typed error naming the host and the fix", async (_, configFile) => {
    const engine = sshEngine(configFile());
    const before = sshd.acceptedConnections();
    try {
      const error = await engine.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineHostKeyError);
      const hostKeyError = error as EngineHostKeyError;
      expect(hostKeyError).toMatchObject({ code: "THROWAWAY_ENGINE_HOST_KEY", host: "127.0.0.1", port: sshd.port });
      expect(hostKeyError.message).toContain(`[127.0.0.1]:${sshd.port}`);
      expect(hostKeyError.message).toContain("did not verify against known_hosts");
      expect(hostKeyError.message).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1`);
      // Nothing logged in: the connection ended at the key check.
      expect(sshd.acceptedConnections()).toBe(before);
    } finally {
      engine.close();
    }
  });
});
