import { Readable } from "node:stream";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { resolveAuth } from "../../src/engine/auth.js";
import type { Engine } from "../../src/engine/engine.js";
import { pullImage } from "../../src/engine/pull.js";
import { InvalidOptionError, type ThrowawayError } from "../../src/errors.js";
import { ImageName } from "../../src/image/image-name.js";

const SECRET = "s3cr3t-Tok3n-9f8e7d";

/** Everything a user could see of an error: its message, fields, cause chain, as a console would print it. */
function everything(error: unknown): string {
  return `${(error as Error).message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
}

describe("no secret in any message", () => {
  it("an invalid DOCKER_AUTH_CONFIG is named without quoting any of it", async () => {
    // Broken JSON that starts with the secret, as a truncated CI variable would.
    const inline = `${SECRET}{"auths":{"ci.example":{"auth":"${Buffer.from(`bot:${SECRET}`).toString("base64")}"`;
    const error = await resolveAuth("ci.example", { authConfigJson: inline, configPath: "/nonexistent" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("DOCKER_AUTH_CONFIG");
    expect(everything(error)).not.toContain(SECRET.slice(0, 6));
    expect((error as ThrowawayError).shortMessage).toContain("not shown");
  });

  /** An engine whose pull answers with `line` (as the registry or a proxy worded it) or fails with `failure`. */
  function fakeEngine(answer: { line?: object; failure?: Error }): Engine {
    return {
      pullStream: async () => {
        if (answer.failure) throw answer.failure;
        return Readable.from([Buffer.from(`${JSON.stringify(answer.line)}\n`)]);
      },
    } as unknown as Engine;
  }
  const image = ImageName.parse("registry.example:5000/team/app:1", "test");
  const auth = { username: "bot", password: SECRET, serveraddress: "registry.example:5000" };

  it("a pull error the registry words with the password in it is scrubbed, like push errors", async () => {
    const engine = fakeEngine({ line: { error: `unauthorized: bad password ${SECRET} for bot` } });
    const error = await pullImage(engine, image, { auth, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((error as ThrowawayError).code).toBe("THROWAWAY_REGISTRY_AUTH");
    expect(everything(error)).not.toContain(SECRET);
    expect((error as Error).message).toContain("***");
  });

  it("a failed pull request with the secret in the engine's error is scrubbed, cause included", async () => {
    const failure = Object.assign(new Error(`(HTTP code 500) server error - proxy said: token ${SECRET} rejected`), {
      statusCode: 500,
      json: { message: `proxy said: token ${SECRET} rejected` },
    });
    const error = await pullImage(fakeEngine({ failure }), image, { auth: { identitytoken: SECRET }, timeoutMs: 10_000 }).catch(
      (e: unknown) => e,
    );
    expect((error as ThrowawayError).code).toBe("THROWAWAY_IMAGE_PULL");
    expect(everything(error)).not.toContain(SECRET);
  });
});

describe("pull error classification", () => {
  it("a status-like number inside a tag (…-1796404031046) is not taken for an HTTP 403", async () => {
    const image = ImageName.parse("registry.example:5000/team/app:22163-1796404031046", "test");
    const engine = {
      pullStream: async () =>
        Readable.from([Buffer.from(`${JSON.stringify({ error: `manifest for ${image} not found: manifest unknown` })}\n`)]),
    } as unknown as Engine;
    const error = await pullImage(engine, image, { auth: { username: "u", password: "p4ss" }, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((error as ThrowawayError).code).toBe("THROWAWAY_IMAGE_PULL");
  });
});
