import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAuth } from "../../src/engine/auth.js";
import { InvalidOptionError, RegistryAuthError } from "../../src/errors.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "throwaway-auth-"));
  // A real credential helper, speaking the docker-credential protocol: registry on stdin, JSON on stdout.
  await writeFile(
    join(dir, "docker-credential-fake"),
    `#!/bin/sh
read registry
case "$registry" in
  registry.helper.test) echo '{"ServerURL":"registry.helper.test","Username":"helper-user","Secret":"helper-secret"}' ;;
  token.helper.test) echo '{"ServerURL":"token.helper.test","Username":"<token>","Secret":"refresh-token"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hub-user","Secret":"hub-secret"}' ;;
  broken.helper.test) echo 'boom' >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  await chmod(join(dir, "docker-credential-fake"), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(content: object): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe("resolveAuth", () => {
  it("reads auths entries (base64 user:password) under several key spellings", async () => {
    const configPath = await config({
      auths: {
        "https://registry.example:5000": { auth: Buffer.from("alice:s3cret:with:colons").toString("base64") },
        "https://index.docker.io/v1/": { username: "hubber", password: "pw" },
      },
    });
    const sources = { configPath, authConfigJson: undefined };
    expect(await resolveAuth("registry.example:5000", sources)).toEqual({
      username: "alice",
      password: "s3cret:with:colons",
      serveraddress: "registry.example:5000",
    });
    expect(await resolveAuth("docker.io", sources)).toEqual({ username: "hubber", password: "pw", serveraddress: "docker.io" });
    expect(await resolveAuth("elsewhere.example", sources)).toBeUndefined();
  });

  it("asks credHelpers for their registry and credsStore for the rest, through real helper processes", async () => {
    const configPath = await config({ credHelpers: { "registry.helper.test": "fake", "token.helper.test": "fake" }, credsStore: "fake" });
    const sources = { configPath, authConfigJson: undefined, helperPath: dir };
    expect(await resolveAuth("registry.helper.test", sources)).toEqual({
      username: "helper-user",
      password: "helper-secret",
      serveraddress: "registry.helper.test",
    });
    expect(await resolveAuth("token.helper.test", sources)).toEqual({ identitytoken: "refresh-token", serveraddress: "token.helper.test" });
    expect(await resolveAuth("docker.io", sources)).toEqual({ username: "hub-user", password: "hub-secret", serveraddress: "docker.io" });
    expect(await resolveAuth("unknown.test", sources)).toBeUndefined();
  });

  it("reports a failing helper with its name and registry", async () => {
    const configPath = await config({ credHelpers: { "broken.helper.test": "fake" } });
    const error = await resolveAuth("broken.helper.test", { configPath, authConfigJson: undefined, helperPath: dir }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as RegistryAuthError).shortMessage).toBe("Credential helper docker-credential-fake failed for broken.helper.test: boom");
  });

  it("prefers DOCKER_AUTH_CONFIG over the file and rejects one that is not JSON", async () => {
    const configPath = await config({ auths: { "ci.example": { auth: Buffer.from("file:pw").toString("base64") } } });
    const inline = JSON.stringify({ auths: { "ci.example": { auth: Buffer.from("ci-bot:token").toString("base64") } } });
    expect(await resolveAuth("ci.example", { configPath, authConfigJson: inline })).toMatchObject({
      username: "ci-bot",
      password: "token",
    });
    await expect(resolveAuth("ci.example", { configPath, authConfigJson: "{nope" })).rejects.toThrow(InvalidOptionError);
  });
});
