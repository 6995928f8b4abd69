// The service's HTTP layer, run in this process against a real MySQL in a container: every route and every error
// status, answered exactly. (users-service.test.ts runs the same service from its image, next to MySQL on a network.)

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MySqlContainer, type StartedMySqlContainer } from "throwaway/mysql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, httpCall } from "./http-call.js";
import { createApp } from "./src/app.js";
import { readConfig } from "./src/config.js";
import { MySqlUserStore } from "./src/store.js";
import { verifyToken } from "./src/token.js";

const NOW = Date.parse("2026-01-02T03:04:05.000Z");
const SECRET = "service-test-secret-of-32-characters-or-more";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let mysql: StartedMySqlContainer;
let store: MySqlUserStore;
let server: Server;
let baseUrl: string;
const logLines: string[] = [];

beforeAll(async () => {
  // Root with an empty password, as the course ran MySQL; the service creates its database itself.
  mysql = await new MySqlContainer("mysql:5.7").withUsername("root").withRootPassword("").start();
  const config = readConfig(
    { DB_HOST: mysql.getHost(), DB_PORT: String(mysql.getPort()), TOKEN_SECRET: SECRET, GREETING_MESSAGE: "Hello from the test" },
    () => "unused",
  );
  store = await MySqlUserStore.connect(config.db);
  server = createApp({ store, config, now: () => NOW, log: (line) => logLines.push(line) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await store?.close();
  await mysql?.stop();
});

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return httpCall(baseUrl, method, path, body, headers);
}

/** The error body every failure has, in the shape of Spring Boot's default error (which the course's service sent). */
function problem(status: number, error: string, message: string, path: string, extra: Record<string, unknown> = {}) {
  return { timestamp: "2026-01-02T03:04:05.000Z", status, error, message, path, ...extra };
}

/** Rows of `users` as MySQL itself has them, read inside the MySQL container with its own client. */
async function rows(where = ""): Promise<string[][]> {
  const result = await mysql.exec([
    "mysql",
    "-uroot",
    "--batch",
    "--skip-column-names",
    "users_service",
    "-e",
    `SELECT id, email, name, user_id, encrypted_pwd FROM users ${where} ORDER BY id`,
  ]);
  expect(result.stderr).toBe("");
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\t"));
}

describe("users-service HTTP API", () => {
  it("GET /welcome says the greeting", async () => {
    const answer = await call("GET", "/welcome");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(answer.text).toBe("Hello from the test");
  });

  it("GET /health_check says it works while MySQL answers (also as /health-check)", async () => {
    for (const path of ["/health_check", "/health-check"]) {
      const answer = await call("GET", path);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(`It's Working in User Service, port=8080, message=Hello from the test`);
    }
  });

  it("POST /users creates a user (201, a UUID, no password), which GET /users/{userId} and GET /users return", async () => {
    const created = await call("POST", "/users", { email: "ann@example.com", name: "Ann Lee", pwd: "s3cret-pass" });
    expect(created.status).toBe(201);
    const { userId } = created.json as { userId: string };
    expect(userId).toMatch(UUID);
    expect(created.json).toEqual({ email: "ann@example.com", name: "Ann Lee", userId });
    expect(created.headers.get("location")).toBe(`/users/${userId}`);

    const one = await call("GET", `/users/${userId}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ email: "ann@example.com", name: "Ann Lee", userId, orders: [] });

    const all = await call("GET", "/users");
    expect(all.status).toBe(200);
    expect(all.json).toContainEqual({ email: "ann@example.com", name: "Ann Lee", userId });
    expect(all.text).not.toMatch(/pwd|password|scrypt/i);

    // In MySQL: one row, the hash salted scrypt, the password nowhere.
    const [row] = await rows(`WHERE user_id = '${userId}'`);
    expect(row).toEqual([
      expect.stringMatching(/^\d+$/),
      "ann@example.com",
      "Ann Lee",
      userId,
      expect.stringMatching(/^scrypt\$16384\$8\$1\$/),
    ]);
    expect(row!.join(" ")).not.toContain("s3cret-pass");
  });

  it("POST /users answers 409 for an email that is taken, in any letter case, and stores nothing", async () => {
    await call("POST", "/users", { email: "dup@example.com", name: "First", pwd: "password-1" });
    const before = (await rows()).length;
    for (const email of ["dup@example.com", "DUP@example.com"]) {
      const again = await call("POST", "/users", { email, name: "Second", pwd: "password-2" });
      expect(again.status).toBe(409);
      expect(again.json).toEqual(problem(409, "Conflict", `a user with email ${email} already exists`, "/users"));
    }
    expect((await rows()).length).toBe(before);
  });

  it("POST /users answers 400 with every invalid field", async () => {
    const answer = await call("POST", "/users", { email: "not-an-email", name: "A", pwd: "1234" });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual(
      problem(
        400,
        "Bad Request",
        "invalid user: email must be a valid email address; name must be at least 2 characters; pwd must be at least 8 characters",
        "/users",
        { fields: { email: "must be a valid email address", name: "must be at least 2 characters", pwd: "must be at least 8 characters" } },
      ),
    );
    expect(await rows("WHERE email = 'not-an-email'")).toEqual([]);
  });

  it.each([
    ["{not json", "request body is not valid JSON"],
    ["", "request body is empty: send a JSON object"],
    ["[1, 2]", "request body must be a JSON object"],
    ["null", "request body must be a JSON object"],
  ])("POST /users answers 400 for the body %j", async (body, message) => {
    const answer = await call("POST", "/users", body);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual(problem(400, "Bad Request", message, "/users"));
  });

  it("POST /users answers 415 for a body that is not JSON, and 413 for one that is too large", async () => {
    const form = await call("POST", "/users", "email=a@b.co", { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(form.json).toEqual(
      problem(
        415,
        "Unsupported Media Type",
        "send the body as JSON with Content-Type: application/json (got application/x-www-form-urlencoded)",
        "/users",
      ),
    );
    const huge = await call("POST", "/users", { email: "big@example.com", name: "x".repeat(70_000), pwd: "12345678" });
    expect(huge.status).toBe(413);
    expect(huge.json).toEqual(problem(413, "Payload Too Large", "request body larger than 65536 bytes", "/users"));
  });

  it("GET /users/{userId} answers 404 for an unknown user", async () => {
    const answer = await call("GET", "/users/00000000-0000-4000-8000-000000000000");
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual(
      problem(404, "Not Found", "no user with userId 00000000-0000-4000-8000-000000000000", "/users/00000000-0000-4000-8000-000000000000"),
    );
  });

  it("POST /login answers 200 with a signed token in the `token` header and the body, and the userId", async () => {
    const created = await call("POST", "/users", { email: "login@example.com", name: "Lo Gin", pwd: "right-password" });
    const { userId } = created.json as { userId: string };

    const answer = await call("POST", "/login", { email: "login@example.com", password: "right-password" });
    expect(answer.status).toBe(200);
    const token = answer.headers.get("token")!;
    expect(answer.headers.get("userid")).toBe(userId);
    expect(answer.json).toEqual({ token, userId, expiresAt: "2026-01-03T03:04:05.000Z" });
    expect(verifyToken(token, SECRET, NOW / 1000)).toEqual({ sub: userId, iat: NOW / 1000, exp: NOW / 1000 + 86_400 });
  });

  it("POST /login answers 401, the same way, for a wrong password and for an unknown email", async () => {
    await call("POST", "/users", { email: "known@example.com", name: "Known", pwd: "right-password" });
    for (const credentials of [
      { email: "known@example.com", password: "wrong-password" },
      { email: "nobody@example.com", password: "right-password" },
    ]) {
      const answer = await call("POST", "/login", credentials);
      expect(answer.status).toBe(401);
      expect(answer.headers.get("token")).toBeNull();
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="users-service"');
      expect(answer.json).toEqual(problem(401, "Unauthorized", "wrong email or password", "/login"));
    }
  });

  it("POST /login answers 400 when email or password is missing", async () => {
    const answer = await call("POST", "/login", { email: "known@example.com", pwd: "the course's field name" });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual(
      problem(400, "Bad Request", "invalid login: password is required (a string)", "/login", {
        fields: { password: "is required (a string)" },
      }),
    );
  });

  it("answers 405 with Allow for a method a route does not take, and 404 for no route", async () => {
    const wrongMethod = await call("DELETE", "/users");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST");
    expect(wrongMethod.json).toEqual(problem(405, "Method Not Allowed", "DELETE is not allowed on /users (allowed: GET, POST)", "/users"));

    const nowhere = await call("GET", "/orders");
    expect(nowhere.status).toBe(404);
    expect(nowhere.json).toEqual(problem(404, "Not Found", "no route for GET /orders", "/orders"));
  });

  it("accepts the API gateway's /user-service prefix", async () => {
    const answer = await call("GET", "/user-service/welcome");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe("Hello from the test");
  });

  it("answers 503 on /health_check and 500 elsewhere when the database is gone, logging the cause", async () => {
    const config = readConfig({ DB_HOST: mysql.getHost(), DB_PORT: String(mysql.getPort()), TOKEN_SECRET: SECRET }, () => "x");
    const closedStore = await MySqlUserStore.connect(config.db);
    await closedStore.close();
    const lines: string[] = [];
    const broken = createApp({ store: closedStore, config, now: () => NOW, log: (line) => lines.push(line) });
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    try {
      const health = await fetch(`${url}/health_check`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual(problem(503, "Service Unavailable", "database unavailable: Pool is closed.", "/health_check"));

      const list = await fetch(`${url}/users`);
      expect(list.status).toBe(500);
      expect(await list.json()).toEqual(problem(500, "Internal Server Error", "internal error (see the service's log)", "/users"));
      expect(lines.some((line) => line.startsWith("error on GET /users: Error: Pool is closed."))).toBe(true);
    } finally {
      await new Promise((resolve) => broken.close(resolve));
    }
  });

  it("logs one line per request", () => {
    expect(logLines).toContain("GET /welcome 200 0ms");
  });
});
