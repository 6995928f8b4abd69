import { afterEach, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { ImageName } from "../../src/image/image-name.js";
import { addImageSubstitutor, substituteImage } from "../../src/image/substitution.js";

describe("ImageName.parse", () => {
  it.each([
    ["mysql", undefined, "mysql", "latest", undefined, "mysql:latest"],
    ["mysql:5.7", undefined, "mysql", "5.7", undefined, "mysql:5.7"],
    ["library/mysql:5.7", undefined, "library/mysql", "5.7", undefined, "library/mysql:5.7"],
    ["docker.io/library/mysql:5.7", undefined, "mysql", "5.7", undefined, "mysql:5.7"],
    ["you/users-service:1.0", undefined, "you/users-service", "1.0", undefined, "you/users-service:1.0"],
    ["localhost:5000/team/app", "localhost:5000", "team/app", "latest", undefined, "localhost:5000/team/app:latest"],
    ["127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", undefined, "127.0.0.1:5000/app:v1"],
    [
      "ghcr.io/org/tool@sha256:" + "a".repeat(64),
      "ghcr.io",
      "org/tool",
      undefined,
      `sha256:${"a".repeat(64)}`,
      `ghcr.io/org/tool@sha256:${"a".repeat(64)}`,
    ],
    [
      "r.example:443/a/b/c:1@sha256:" + "b".repeat(64),
      "r.example:443",
      "a/b/c",
      "1",
      `sha256:${"b".repeat(64)}`,
      `r.example:443/a/b/c:1@sha256:${"b".repeat(64)}`,
    ],
  ])("%s", (reference, registry, repository, tag, digest, text) => {
    const image = ImageName.parse(reference);
    expect({ registry: image.registry, repository: image.repository, tag: image.tag, digest: image.digest }).toEqual({
      registry,
      repository,
      tag,
      digest,
    });
    expect(image.toString()).toBe(text);
  });

  it("names Docker Hub as the registry for credentials", () => {
    expect(ImageName.parse("mysql:5.7").registryHost).toBe("docker.io");
    expect(ImageName.parse("quay.io/x/y").registryHost).toBe("quay.io");
  });

  it("rejects bad references with the value and the reason", () => {
    const cases: [string, string][] = [
      ["", "the reference is empty"],
      ["MySQL:5.7", "repository names must be lowercase: use `mysql`"],
      ["mysql:5.7 ", "it has leading or trailing spaces"],
      ["mysql:-5", "`-5` is not a valid tag"],
      ["mysql@sha256:xyz", "`sha256:xyz` is not a digest"],
      ["my_/sql", "`my_` is not a valid repository component"],
    ];
    for (const [reference, reason] of cases) {
      let error: unknown;
      try {
        ImageName.parse(reference, "new GenericContainer(image)");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).shortMessage).toContain(`got \`${JSON.stringify(reference)}\` (string)`);
      expect((error as InvalidOptionError).shortMessage).toContain(reason);
      expect((error as InvalidOptionError).option).toBe("new GenericContainer(image)");
    }
  });
});

describe("substituteImage", () => {
  const saved = process.env.THROWAWAY_HUB_IMAGE_NAME_PREFIX;
  afterEach(() => {
    if (saved === undefined) delete process.env.THROWAWAY_HUB_IMAGE_NAME_PREFIX;
    else process.env.THROWAWAY_HUB_IMAGE_NAME_PREFIX = saved;
  });

  it("prefixes Docker Hub images only, from THROWAWAY_HUB_IMAGE_NAME_PREFIX", () => {
    process.env.THROWAWAY_HUB_IMAGE_NAME_PREFIX = "registry.corp:5000/mirror/";
    expect(substituteImage(ImageName.parse("mysql:5.7")).toString()).toBe("registry.corp:5000/mirror/mysql:5.7");
    expect(substituteImage(ImageName.parse("quay.io/a/b:1")).toString()).toBe("quay.io/a/b:1");
  });

  it("applies registered substitutors in order, and removes them", () => {
    delete process.env.THROWAWAY_HUB_IMAGE_NAME_PREFIX;
    const removeA = addImageSubstitutor((image) => (image.repository === "mysql" ? "mariadb:10.11" : undefined));
    const removeB = addImageSubstitutor((image) => (image.isDockerHub ? `mirror.local/${image.repository}:${image.tag}` : undefined));
    try {
      expect(substituteImage(ImageName.parse("mysql:5.7")).toString()).toBe("mirror.local/mariadb:10.11");
    } finally {
      removeA();
      removeB();
    }
    expect(substituteImage(ImageName.parse("mysql:5.7")).toString()).toBe("mysql:5.7");
  });
});
