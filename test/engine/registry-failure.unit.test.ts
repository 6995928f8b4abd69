import { describe, expect, it } from "vitest";
import { registryFailure } from "../../src/engine/registry-failure.js";

describe("registryFailure", () => {
  it("takes a 401 or 403 the engine answered with as denied, whatever the text", () => {
    expect(registryFailure("pull", "", 401)).toBe("denied");
    expect(registryFailure("push", "An image does not exist locally with the tag: x", 403)).toBe("denied");
  });

  it.each([
    ["pull", 'Get "https://registry.test/v2/": dial tcp: lookup registry.test: no such host', "unreachable"],
    ["pull", 'Get "https://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', "unreachable"],
    ["push", 'Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client', "unreachable"],
    ["pull", 'Head "https://127.0.0.1:5001/v2/a/manifests/1": unauthorized: authentication required', "denied"],
    ["pull", "pull access denied for nope, repository does not exist or may require 'docker login'", "denied"],
    ["push", "unauthorized: authentication required", "denied"],
    ["push", "no basic auth credentials", "denied"],
    ["pull", "manifest for busybox:nope not found: manifest unknown: manifest unknown", "not-found"],
    ["pull", "no such image: docker.io/library/nope:never: image not known", "not-found"],
    ["push", "An image does not exist locally with the tag: 127.0.0.1:5000/ghost", "no-local-image"],
    ["push", "tag does not exist: 127.0.0.1:5000/ghost:1", "not-found"],
    ["pull", "write /var/lib/docker/tmp/x: no space left on device", "other"],
  ] as const)("%s: %s -> %s", (operation, text, expected) => {
    expect(registryFailure(operation, text)).toBe(expected);
  });

  it("for a pull, an image the engine does not have is a missing image, not a local one", () => {
    expect(registryFailure("pull", "An image does not exist locally with the tag: x")).toBe("not-found");
  });
});
