// Pure logic of the service: settings, password hashes, tokens, validation. No container needed.
import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "./src/config.js";
import { hashPassword, verifyPassword } from "./src/passwords.js";
import { isTransient } from "./src/store.js";
import { signToken, verifyToken } from "./src/token.js";
import { validateCredentials, validateNewUser } from "./src/validation.js";

const SECRET = "a-test-secret-of-at-least-32-characters!";

describe("readConfig", () => {
  it("has the documented defaults", () => {
    expect(readConfig({}, () => "generated-secret")).toEqual({
      port: 8080,
      db: { host: "mysql", port: 3306, user: "root", password: "", database: "users_service", connectTimeoutMs: 60_000 },
      token: { secret: "generated-secret", generated: true, expirationMs: 86_400_000 },
      greeting: "Welcome to the Simple E-commerce.",
    });
  });

  it("reads every setting from the environment", () => {
    const config = readConfig(
      {
        PORT: "9090",
        DB_HOST: "db.internal",
        DB_PORT: "3307",
        DB_USER: "app",
        DB_PASSWORD: " spaced ",
        DB_NAME: "shop_users",
        DB_CONNECT_TIMEOUT_MS: "5000",
        TOKEN_SECRET: SECRET,
        TOKEN_EXPIRATION_MS: "60000",
        GREETING_MESSAGE: "Hello",
      },
      () => "unused",
    );
    expect(config).toEqual({
      port: 9090,
      db: { host: "db.internal", port: 3307, user: "app", password: " spaced ", database: "shop_users", connectTimeoutMs: 5000 },
      token: { secret: SECRET, generated: false, expirationMs: 60_000 },
      greeting: "Hello",
    });
  });

  it.each([
    [{ PORT: "80a" }, 'PORT must be an integer from 1 to 65535, got "80a"'],
    [{ DB_PORT: "70000" }, 'DB_PORT must be an integer from 1 to 65535, got "70000"'],
    [{ DB_NAME: "users; DROP TABLE x" }, 'DB_NAME must be 1-64 letters, digits or underscores, got "users; DROP TABLE x"'],
    [{ TOKEN_SECRET: "short" }, "TOKEN_SECRET must be at least 32 characters for HMAC-SHA256, got 5"],
  ])("rejects %j", (env, message) => {
    expect(() => readConfig(env, () => "x")).toThrow(new ConfigError(message));
  });
});

describe("passwords", () => {
  it("stores a salted scrypt hash that verifies only the right password", async () => {
    const stored = await hashPassword("correct horse");
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(stored).not.toContain("correct horse");
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsE", stored)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
  });

  it("rejects strings it did not write", async () => {
    expect(await verifyPassword("x", "$2a$10$bcrypt-hash-from-elsewhere")).toBe(false);
    expect(await verifyPassword("x", "scrypt$a$b$c$$")).toBe(false);
  });
});

describe("tokens", () => {
  const claims = { sub: "3f0c2f0e-1111-4222-8333-944455556666", iat: 1_700_000_000, exp: 1_700_086_400 };

  it("are JWTs signed with HS256 that verify with the same secret until they expire", () => {
    const token = signToken(claims, SECRET);
    const [header, payload] = token.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({ alg: "HS256", typ: "JWT" });
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toEqual(claims);
    expect(verifyToken(token, SECRET, claims.iat + 10)).toEqual(claims);
    expect(verifyToken(token, SECRET, claims.exp)).toBeUndefined();
  });

  it("do not verify with another secret or when altered", () => {
    const token = signToken(claims, SECRET);
    expect(verifyToken(token, `${SECRET}x`, claims.iat)).toBeUndefined();
    const forged = signToken({ ...claims, sub: "someone-else" }, "another secret of at least 32 chars!!");
    const [header, payload] = forged.split(".");
    expect(verifyToken(`${header}.${payload}.${token.split(".")[2]}`, SECRET, claims.iat)).toBeUndefined();
  });

  it("match a signature computed independently (RFC 7515 shape)", async () => {
    const { createHmac } = await import("node:crypto");
    const token = signToken(claims, SECRET);
    const [header, payload, signature] = token.split(".");
    expect(signature).toBe(createHmac("sha256", SECRET).update(`${header}.${payload}`).digest("base64url"));
  });
});

describe("validateNewUser", () => {
  it("accepts a valid user and trims email and name", () => {
    expect(validateNewUser({ email: " ann@example.com ", name: " Ann ", pwd: "12345678", extra: true })).toEqual({
      ok: true,
      value: { email: "ann@example.com", name: "Ann", pwd: "12345678" },
    });
  });

  it("reports every problem, per field", () => {
    expect(validateNewUser({ email: "not-an-email", name: "A", pwd: "1234" })).toEqual({
      ok: false,
      fields: { email: "must be a valid email address", name: "must be at least 2 characters", pwd: "must be at least 8 characters" },
    });
    expect(validateNewUser({})).toEqual({
      ok: false,
      fields: { email: "is required (a string)", name: "is required (a string)", pwd: "is required (a string)" },
    });
  });

  it("enforces the column widths of the users table", () => {
    const result = validateNewUser({ email: `${"a".repeat(40)}@example.com`, name: "N".repeat(51), pwd: "p".repeat(1025) });
    expect(result).toEqual({
      ok: false,
      fields: { email: "must be at most 50 characters", name: "must be at most 50 characters", pwd: "must be at most 1024 characters" },
    });
  });
});

describe("validateCredentials", () => {
  it("checks only the shape", () => {
    expect(validateCredentials({ email: "ann@example.com", password: "x" })).toEqual({
      ok: true,
      value: { email: "ann@example.com", password: "x" },
    });
    expect(validateCredentials({ email: "", pwd: "12345678" })).toEqual({
      ok: false,
      fields: { email: "is required (a string)", password: "is required (a string)" },
    });
  });
});

describe("isTransient", () => {
  it("retries what fixes itself and nothing else", () => {
    expect(isTransient(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("lost"), { code: "PROTOCOL_CONNECTION_LOST" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("denied"), { code: "ER_ACCESS_DENIED_ERROR" }))).toBe(false);
    expect(isTransient(new Error("no code"))).toBe(false);
  });
});
