import { describe, expect, it } from "vitest";
import {
  ContainerExitedError,
  describeValue,
  EngineApiVersionError,
  EngineConnectionError,
  EngineHostKeyError,
  EngineHttpError,
  EngineTimeoutError,
  EngineTlsError,
  EngineUnavailableError,
  ImagePullError,
  InvalidOptionError,
  ThrowawayError,
  WaitTimeoutError,
} from "../src/errors.js";

describe("errors", () => {
  it.each([
    [new InvalidOptionError("x", "y", 1), "THROWAWAY_INVALID_OPTION", "InvalidOptionError"],
    [new EngineUnavailableError([]), "THROWAWAY_ENGINE_UNAVAILABLE", "EngineUnavailableError"],
    [new ImagePullError("m", { registry: "docker.io" }), "THROWAWAY_IMAGE_PULL", "ImagePullError"],
    [new ContainerExitedError("m", { exitCode: 1, oomKilled: false }), "THROWAWAY_CONTAINER_EXITED", "ContainerExitedError"],
    [new EngineHttpError({ status: 500, engineMessage: "m", call: "GET /x" }), "THROWAWAY_ENGINE_HTTP", "EngineHttpError"],
    [
      new EngineConnectionError({ endpoint: "unix:///s", call: "GET /x", reason: "ECONNRESET" }),
      "THROWAWAY_ENGINE_CONNECTION",
      "EngineConnectionError",
    ],
    [new EngineTimeoutError({ endpoint: "unix:///s", call: "GET /x", timeoutMs: 1 }), "THROWAWAY_ENGINE_TIMEOUT", "EngineTimeoutError"],
    [new EngineHostKeyError({ host: "h", endpoint: "ssh://h" }), "THROWAWAY_ENGINE_HOST_KEY", "EngineHostKeyError"],
    [
      new EngineTlsError({ endpoint: "tcp://h:2376", call: "GET /_ping", reason: "EPROTO", fix: "f" }),
      "THROWAWAY_ENGINE_TLS",
      "EngineTlsError",
    ],
    [
      new EngineApiVersionError("m", { endpoint: "unix:///s", clientVersion: "1.41", engineVersion: "1.30" }),
      "THROWAWAY_ENGINE_API_VERSION",
      "EngineApiVersionError",
    ],
  ])("%s has a stable code and name", (error, code, name) => {
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(ThrowawayError);
    expect(error).toBeInstanceOf(Error);
  });

  it("matches by brand and code, so a second copy of the package still matches", () => {
    const foreign = Object.assign(Object.create(Error.prototype), { code: "THROWAWAY_IMAGE_PULL", [Symbol.for("throwaway.error")]: true });
    expect(foreign).toBeInstanceOf(ImagePullError);
    expect(foreign).toBeInstanceOf(ThrowawayError);
    expect(foreign).not.toBeInstanceOf(WaitTimeoutError);
    expect(new Error("plain")).not.toBeInstanceOf(ThrowawayError);
  });

  it("keeps the short message to one line and puts details in the full message", () => {
    const error = new ImagePullError("Pulling x failed", { registry: "docker.io", details: "line 1\nline 2\n" });
    expect(error.shortMessage).toBe("Pulling x failed");
    expect(error.message).toBe("Pulling x failed\n\nline 1\nline 2");
  });

  it("lists every place it tried when no engine answers", () => {
    const error = new EngineUnavailableError([
      { source: "DOCKER_HOST", endpoint: "tcp://10.0.0.1:2375", error: "connect ECONNREFUSED" },
      { source: "default socket", endpoint: "unix:///var/run/docker.sock", error: "connect ENOENT" },
    ]);
    expect(error.message).toBe(
      "No Docker engine answered: start Docker (or Docker Desktop), or point DOCKER_HOST at an engine\n\n" +
        "Tried, in order:\n  - DOCKER_HOST: tcp://10.0.0.1:2375: connect ECONNREFUSED\n  - default socket: unix:///var/run/docker.sock: connect ENOENT",
    );
  });

  it("quotes received values with their type", () => {
    expect(describeValue(70000)).toBe("`70000` (number)");
    expect(describeValue("abc")).toBe('`"abc"` (string)');
    expect(describeValue(undefined)).toBe("`undefined`");
    expect(describeValue([1, "a"])).toBe('`[1,"a"]` (array)');
    expect(describeValue({ a: 1 })).toBe('`{"a":1}` (Object)');
  });
});
