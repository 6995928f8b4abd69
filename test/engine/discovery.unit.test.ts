import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  containerHost,
  type DiscoveryEnvironment,
  endpointUrl,
  engineCandidates,
  isLocalEndpoint,
  parseDockerHost,
  publishHostIp,
} from "../../src/engine/discovery.js";
import { sshArgs } from "../../src/engine/ssh.js";
import { InvalidOptionError } from "../../src/errors.js";

function world(overrides: Partial<DiscoveryEnvironment> & { files?: Record<string, string> } = {}): DiscoveryEnvironment {
  const files = overrides.files ?? {};
  return {
    env: {},
    home: "/home/dev",
    platform: "linux",
    uid: 1000,
    exists: (path) => path in files,
    readFile: (path) => files[path],
    ...overrides,
  };
}

const sha = (name: string) => createHash("sha256").update(name).digest("hex");

describe("parseDockerHost", () => {
  it("reads unix, tcp, https and ssh URLs", () => {
    expect(parseDockerHost("unix:///run/docker.sock", "DOCKER_HOST")).toEqual({
      kind: "unix",
      source: "DOCKER_HOST",
      socketPath: "/run/docker.sock",
    });
    expect(parseDockerHost("tcp://10.0.0.5:2375", "DOCKER_HOST")).toEqual({
      kind: "tcp",
      source: "DOCKER_HOST",
      host: "10.0.0.5",
      port: 2375,
    });
    expect(parseDockerHost("tcp://docker.example", "DOCKER_HOST")).toMatchObject({ port: 2375 });
    expect(parseDockerHost("https://docker.example", "DOCKER_HOST")).toMatchObject({ port: 2376 });
    expect(parseDockerHost("ssh://me@builder:2222", "DOCKER_HOST")).toEqual({
      kind: "ssh",
      source: "DOCKER_HOST",
      host: "builder",
      port: 2222,
      username: "me",
    });
  });

  it("rejects what it cannot read, quoting the value", () => {
    expect(() => parseDockerHost("/var/run/docker.sock", "DOCKER_HOST")).toThrow(InvalidOptionError);
    expect(() => parseDockerHost("ftp://x", "DOCKER_HOST")).toThrow(
      'Expected `DOCKER_HOST` to be a unix://, tcp://, npipe:// or ssh:// URL, got `"ftp://x"` (string)',
    );
  });
});

describe("engineCandidates", () => {
  it("tries DOCKER_HOST first, then only the sockets that exist", () => {
    const candidates = engineCandidates(
      world({
        env: { DOCKER_HOST: "tcp://127.0.0.1:2375", XDG_RUNTIME_DIR: "/run/user/1000" },
        files: { "/var/run/docker.sock": "", "/run/user/1000/docker.sock": "", "/home/dev/.docker/desktop/docker.sock": "" },
      }),
    );
    expect(candidates.map(endpointUrl)).toEqual([
      "tcp://127.0.0.1:2375",
      "unix:///var/run/docker.sock",
      "unix:///run/user/1000/docker.sock",
      "unix:///home/dev/.docker/desktop/docker.sock",
    ]);
    expect(candidates.map((c) => c.source)).toEqual(["DOCKER_HOST", "default socket", "rootless socket", "Docker Desktop socket"]);
  });

  it("uses TLS files from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set", () => {
    const [first] = engineCandidates(
      world({ env: { DOCKER_HOST: "tcp://remote:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" } }),
    );
    expect(first).toEqual({
      kind: "tcp",
      source: "DOCKER_HOST",
      host: "remote",
      port: 2376,
      tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem", verify: true },
    });
  });

  it("always uses TLS for an https:// DOCKER_HOST, verified, with DOCKER_CERT_PATH's files when set", () => {
    expect(engineCandidates(world({ env: { DOCKER_HOST: "https://remote" } }))[0]).toMatchObject({
      kind: "tcp",
      port: 2376,
      tls: { verify: true },
    });
    expect(engineCandidates(world({ env: { DOCKER_HOST: "https://remote:9999", DOCKER_CERT_PATH: "/certs" } }))[0]).toMatchObject({
      port: 9999,
      tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem", verify: true },
    });
  });

  it("reads DOCKER_TLS as TLS without verification, and leaves tcp:// plain without either variable", () => {
    expect(engineCandidates(world({ env: { DOCKER_HOST: "tcp://remote:2376", DOCKER_TLS: "1" } }))[0]).toMatchObject({
      tls: { ca: "/home/dev/.docker/ca.pem", verify: false },
    });
    expect(engineCandidates(world({ env: { DOCKER_HOST: "tcp://remote:2375" } }))[0]).not.toHaveProperty("tls");
  });

  it("leaves an ssh:// engine's port and user to the ssh config when the URL has none", () => {
    const [endpoint] = engineCandidates(world({ env: { DOCKER_HOST: "ssh://builder" } }));
    expect(endpoint).toEqual({ kind: "ssh", source: "DOCKER_HOST", host: "builder" });
    expect(endpointUrl(endpoint!)).toBe("ssh://builder");
  });

  it("follows the current docker context from config.json and its meta store", () => {
    const meta = `/home/dev/.docker/contexts/meta/${sha("colima")}/meta.json`;
    const candidates = engineCandidates(
      world({
        files: {
          "/home/dev/.docker/config.json": JSON.stringify({ currentContext: "colima" }),
          [meta]: JSON.stringify({ Name: "colima", Endpoints: { docker: { Host: "unix:///home/dev/.colima/default/docker.sock" } } }),
        },
      }),
    );
    expect(candidates[0]).toEqual({
      kind: "unix",
      source: 'docker context "colima"',
      socketPath: "/home/dev/.colima/default/docker.sock",
    });
  });

  it("lets DOCKER_CONTEXT win over config.json, and names a context that does not exist", () => {
    expect(() =>
      engineCandidates(
        world({ env: { DOCKER_CONTEXT: "gone" }, files: { "/home/dev/.docker/config.json": '{"currentContext":"colima"}' } }),
      ),
    ).toThrow(
      /Expected `DOCKER_CONTEXT "gone"` to be an existing docker context, got `"gone"` \(string\): no .*meta\.json; run `docker context ls`/,
    );
  });

  it("treats the default context as the usual sockets", () => {
    const candidates = engineCandidates(world({ env: { DOCKER_CONTEXT: "default" }, files: { "/var/run/docker.sock": "" } }));
    expect(candidates.map(endpointUrl)).toEqual(["unix:///var/run/docker.sock"]);
  });

  it("finds Podman's socket when Docker's is absent", () => {
    const candidates = engineCandidates(
      world({ env: { XDG_RUNTIME_DIR: "/run/user/1000" }, files: { "/run/user/1000/podman/podman.sock": "" } }),
    );
    expect(candidates.map((c) => c.source)).toEqual(["Podman socket"]);
  });
});

describe("containerHost and publishHostIp", () => {
  it("connects to loopback for local sockets and to the engine's host for tcp", () => {
    const local = { kind: "unix", source: "x", socketPath: "/var/run/docker.sock" } as const;
    const remote = { kind: "tcp", source: "x", host: "build-box", port: 2375 } as const;
    expect(containerHost(local, "")).toBe("127.0.0.1");
    expect(containerHost(remote, "")).toBe("build-box");
    expect(containerHost(remote, "gateway")).toBe("gateway");
    expect(publishHostIp(local)).toBe("127.0.0.1");
    expect(publishHostIp(remote)).toBe("");
    expect(isLocalEndpoint(local)).toBe(true);
    expect(isLocalEndpoint(remote)).toBe(false);
    expect(isLocalEndpoint({ kind: "ssh", source: "x", host: "127.0.0.1" })).toBe(false);
  });
});

describe("sshArgs", () => {
  it("runs dial-stdio in batch mode, with the URL's user and port only when given, the host after `--`", () => {
    expect(sshArgs({ kind: "ssh", source: "x", host: "builder", port: 2222, username: "ci" })).toEqual([
      "-o",
      "BatchMode=yes",
      "-l",
      "ci",
      "-p",
      "2222",
      "--",
      "builder",
      "docker",
      "system",
      "dial-stdio",
    ]);
    expect(sshArgs({ kind: "ssh", source: "x", host: "-oProxyCommand=x" }, "/ci/ssh_config")).toEqual([
      "-F",
      "/ci/ssh_config",
      "-o",
      "BatchMode=yes",
      "--",
      "-oProxyCommand=x",
      "docker",
      "system",
      "dial-stdio",
    ]);
  });
});
