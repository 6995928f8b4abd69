import { describe, expect, it } from "vitest";
import type { EngineEndpoint } from "../../src/engine/discovery.js";
import { engineTraits, isRemoteEndpoint } from "../../src/engine/traits.js";

const unix: EngineEndpoint = { kind: "unix", source: "test", socketPath: "/run/podman/podman.sock" };
const tcp = (host: string): EngineEndpoint => ({ kind: "tcp", source: "test", host, port: 2376 });

describe("engineTraits", () => {
  it("knows Podman by its /version component, and leaves its health checks to the client", () => {
    const traits = engineTraits(
      unix,
      "unix:///run/podman/podman.sock",
      { Version: "4.3.1", Components: [{ Name: "Podman Engine", Version: "4.3.1" }] },
      {},
    );
    expect(traits).toMatchObject({ product: "podman", version: "4.3.1", remote: false, rootless: false, healthChecks: "client" });
    expect(traits.description).toBe("Podman 4.3.1 at unix:///run/podman/podman.sock");
  });

  it("knows a rootless Podman from its own /libpod/info (its Docker-compatible /info does not say)", () => {
    const version = { Components: [{ Name: "Podman Engine", Version: "4.3.1" }] };
    const info = { SecurityOptions: ["name=seccomp,profile=default"] };
    expect(engineTraits(unix, "unix:///x", version, info).rootless).toBe(false);
    expect(engineTraits(unix, "unix:///x", version, info, { host: { security: { rootless: true } } }).rootless).toBe(true);
  });

  it("takes any other engine for Docker, rootless when /info says so", () => {
    const traits = engineTraits(
      unix,
      "unix:///x",
      { Version: "20.10.24", Components: [{ Name: "Engine", Version: "20.10.24" }] },
      {
        SecurityOptions: ["name=seccomp,profile=default", "name=rootless"],
      },
    );
    expect(traits).toMatchObject({
      product: "docker",
      rootless: true,
      healthChecks: "engine",
      description: "Docker 20.10.24 (rootless) at unix:///x",
    });
  });

  it("counts every tcp and ssh endpoint as remote, even on loopback (a tunnel or Docker-in-Docker's published port)", () => {
    expect(isRemoteEndpoint(tcp("10.213.0.2"))).toBe(true);
    expect(isRemoteEndpoint({ kind: "ssh", source: "test", host: "build-box", port: 22 })).toBe(true);
    expect(isRemoteEndpoint(tcp("127.0.0.1"))).toBe(true);
    expect(isRemoteEndpoint(unix)).toBe(false);
  });
});
