import { InvalidOptionError } from "../errors.js";

// The reference grammar of `docker run IMAGE[:TAG|@DIGEST]` (distribution/reference), one piece at a time.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const DOMAIN =
  /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$/;

/** Docker Hub's registry name, as the engine and credential stores call it. */
export const DOCKER_HUB = "docker.io";

/** A parsed, validated image reference. Immutable; `toString()` gives back a reference the engine accepts. */
export class ImageName {
  /** The registry host (and port), or `undefined` for Docker Hub. */
  readonly registry: string | undefined;
  /** The repository path, e.g. `library/mysql`'s short form `mysql`, or `you/users-service`. */
  readonly repository: string;
  /** The tag; `latest` when neither tag nor digest was given. */
  readonly tag: string | undefined;
  readonly digest: string | undefined;

  private constructor(registry: string | undefined, repository: string, tag: string | undefined, digest: string | undefined) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  /**
   * Parses `[REGISTRY[:PORT]/]NAME[:TAG|@DIGEST]`; throws {@link InvalidOptionError} quoting the value and what is
   * wrong with it. `option` names where the value came from (e.g. `new GenericContainer(image)`).
   */
  static parse(reference: string, option = "image"): ImageName {
    const fail = (why: string): never => {
      throw new InvalidOptionError(option, "an image reference such as `mysql:5.7` or `registry:5000/team/app@sha256:...`", reference, {
        hint: why,
      });
    };
    if (typeof reference !== "string" || reference.trim() === "") fail("the reference is empty");
    if (reference !== reference.trim()) fail("it has leading or trailing spaces");
    let rest = reference;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
      digest = rest.slice(at + 1);
      rest = rest.slice(0, at);
      if (!DIGEST.test(digest)) fail(`\`${digest}\` is not a digest (expected e.g. sha256:<64 hex>)`);
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!TAG.test(tag)) fail(`\`${tag}\` is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
    }
    let registry: string | undefined;
    const firstSlash = rest.indexOf("/");
    if (firstSlash >= 0) {
      const first = rest.slice(0, firstSlash);
      if (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[")) {
        if (!DOMAIN.test(first)) fail(`\`${first}\` is not a valid registry host`);
        registry = first;
        rest = rest.slice(firstSlash + 1);
      }
    }
    if (rest === "") fail("the repository name is missing");
    for (const component of rest.split("/")) {
      if (!COMPONENT.test(component)) {
        const lower = component.toLowerCase();
        fail(
          lower !== component && COMPONENT.test(lower)
            ? `repository names must be lowercase: use \`${lower}\``
            : `\`${component}\` is not a valid repository component (lowercase letters, digits, and . _ - between them)`,
        );
      }
    }
    if (rest.length > 255) fail("the repository name is longer than 255 characters");
    if (registry === DOCKER_HUB || registry === "index.docker.io" || registry === "registry-1.docker.io") {
      registry = undefined;
      if (rest.startsWith("library/")) rest = rest.slice("library/".length);
    }
    return new ImageName(registry, rest, tag ?? (digest ? undefined : "latest"), digest);
  }

  /** True for images on Docker Hub (no registry given). */
  get isDockerHub(): boolean {
    return this.registry === undefined;
  }

  /** The registry credentials are looked up under: `docker.io` for Hub images. */
  get registryHost(): string {
    return this.registry ?? DOCKER_HUB;
  }

  /** `registry/repository`, without tag or digest: what the engine calls `fromImage`. */
  get name(): string {
    return this.registry ? `${this.registry}/${this.repository}` : this.repository;
  }

  withRegistryPrefix(prefix: string): ImageName {
    const trimmed = prefix.replace(/\/+$/, "");
    return ImageName.parse(`${trimmed}/${this.repository}${this.suffix()}`, "THROWAWAY_HUB_IMAGE_NAME_PREFIX");
  }

  private suffix(): string {
    return `${this.tag ? `:${this.tag}` : ""}${this.digest ? `@${this.digest}` : ""}`;
  }

  toString(): string {
    return `${this.name}${this.suffix()}`;
  }
}
