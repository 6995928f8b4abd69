// The flagship example: the users-service built from its Dockerfile, next to MySQL 5.7 on a private network, tested
// over HTTP through the mapped port, with MySQL's rows checked inside the MySQL container.
import { getEngine, InvalidOptionError, Network, type StartedNetwork } from "throwaway";
import { MySqlContainer, type StartedMySqlContainer } from "throwaway/mysql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpCall } from "./http-call.js";
import { verifyToken } from "./src/token.js";
import up from "./throwaway.fixtures.js";
import { buildUsersServiceImage, type StartedUsersServiceContainer, UsersServiceContainer } from "./users-service-container.js";

const SECRET = "flagship-test-secret-at-least-32-characters";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let network: StartedNetwork;
let mysql: StartedMySqlContainer;
let users: StartedUsersServiceContainer;

beforeAll(async () => {
  network = await new Network().start();
  // As in the course: MySQL 5.7 with an empty root password, reachable on the network as `mysql`.
  mysql = await new MySqlContainer("mysql:5.7")
    .withUsername("root")
    .withRootPassword("")
    .withDatabase("users_service")
    .withNetwork(network)
    .withNetworkAliases("mysql")
    .start();
  users = await new UsersServiceContainer()
    .withNetwork(network)
    .withMySql(mysql, "mysql")
    .withTokenSecret(SECRET)
    .withGreeting("Welcome to the throwaway example.")
    .start();
});

afterAll(async () => {
  await users?.stop();
  await mysql?.stop();
  await network?.stop();
});

function call(method: string, path: string, body?: unknown) {
  return httpCall(users.getBaseUrl(), method, path, body);
}

interface UserRow {
  email: string;
  name: string;
  user_id: string;
  encrypted_pwd: string;
}

/** `users` as MySQL has them, asked through the MySQL container (as root, in `users_service`). */
function mysqlRows(): Promise<UserRow[]> {
  return mysql.executeQuery<UserRow>("SELECT email, name, user_id, encrypted_pwd FROM users ORDER BY id");
}

describe("users-service in its container, next to MySQL", () => {
  it("runs the image built from the example's Dockerfile: non-root, port 8080, a health check that passes", async () => {
    const inspect = users.getInspectResult();
    expect(inspect.Config.User).toBe("node");
    expect(Object.keys(inspect.Config.ExposedPorts ?? {})).toEqual(["8080/tcp"]);
    expect(inspect.Config.Cmd).toEqual(["node", "/app/users-service.mjs"]);
    expect(inspect.Config.Env).toContain("DB_HOST=mysql");
    // The image's HEALTHCHECK command, run now rather than waiting for Docker's interval: it must pass.
    const test = inspect.Config.Healthcheck?.Test ?? [];
    expect(test.slice(0, 2)).toEqual(["CMD", "node"]);
    expect(await users.exec(test.slice(1))).toMatchObject({ exitCode: 0 });
  });

  it("builds once: an unchanged service gives a byte-identical bundle and a cache hit", async () => {
    const again = await buildUsersServiceImage();
    expect(again.bundle.changed).toBe(false);
    expect(again.builtImage.cached).toBe(true);
    expect(again.image).toBe(users.getImage());
  });

  it("GET /welcome and GET /health_check answer", async () => {
    expect(await call("GET", "/welcome")).toMatchObject({ status: 200, text: "Welcome to the throwaway example." });
    expect(await call("GET", "/health_check")).toMatchObject({
      status: 200,
      text: "It's Working in User Service, port=8080, message=Welcome to the throwaway example.",
    });
  });

  it("registers, lists, reads and logs in a user; MySQL holds the row with only a password hash", async () => {
    const created = await call("POST", "/users", { email: "grace@example.com", name: "Grace Hopper", pwd: "cobol-1959" });
    expect(created.status).toBe(201);
    const { userId } = created.json as { userId: string };
    expect(userId).toMatch(UUID);
    expect(created.json).toEqual({ email: "grace@example.com", name: "Grace Hopper", userId });

    expect(await call("GET", "/users")).toMatchObject({
      status: 200,
      json: [{ email: "grace@example.com", name: "Grace Hopper", userId }],
    });
    expect(await call("GET", `/users/${userId}`)).toMatchObject({
      status: 200,
      json: { email: "grace@example.com", name: "Grace Hopper", userId, orders: [] },
    });

    const login = await call("POST", "/login", { email: "grace@example.com", password: "cobol-1959" });
    expect(login.status).toBe(200);
    const token = login.headers.get("token")!;
    expect(login.headers.get("userid")).toBe(userId);
    expect(verifyToken(token, SECRET, Math.floor(Date.now() / 1000))?.sub).toBe(userId);
    expect(login.json).toMatchObject({ token, userId });

    const rows = await mysqlRows();
    expect(rows).toEqual([
      {
        email: "grace@example.com",
        name: "Grace Hopper",
        user_id: userId,
        encrypted_pwd: expect.stringMatching(/^scrypt\$16384\$8\$1\$\S+\$\S+$/),
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain("cobol-1959");
    // The same row through MySQL's own client inside its container, as an operator would look.
    const cli = await mysql.exec([
      "mysql",
      "-uroot",
      "--batch",
      "--skip-column-names",
      "users_service",
      "-e",
      "SELECT email, name FROM users",
    ]);
    expect(cli).toMatchObject({ exitCode: 0, stdout: "grace@example.com\tGrace Hopper\n" });
  });

  it("answers every error status with a JSON error", async () => {
    const invalid = await call("POST", "/users", { email: "nope", name: "G", pwd: "short" });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({
      status: 400,
      error: "Bad Request",
      message: "invalid user: email must be a valid email address; name must be at least 2 characters; pwd must be at least 8 characters",
      path: "/users",
    });

    const duplicate = await call("POST", "/users", { email: "grace@example.com", name: "Grace Again", pwd: "another-password" });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toMatchObject({ status: 409, error: "Conflict", message: "a user with email grace@example.com already exists" });

    const unknown = await call("GET", "/users/11111111-2222-4333-8444-555555555555");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ status: 404, message: "no user with userId 11111111-2222-4333-8444-555555555555" });

    const wrongPassword = await call("POST", "/login", { email: "grace@example.com", password: "not-cobol" });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.json).toMatchObject({ status: 401, message: "wrong email or password" });
    expect(wrongPassword.headers.get("token")).toBeNull();

    const noPassword = await call("POST", "/login", { email: "grace@example.com" });
    expect(noPassword.status).toBe(400);
    expect(noPassword.json).toMatchObject({ status: 400, message: "invalid login: password is required (a string)" });

    const badJson = await call("POST", "/users", undefined);
    expect(badJson.status).toBe(400);

    const wrongMethod = await call("PUT", "/users");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, POST");

    // Nothing of the failed requests reached MySQL.
    expect((await mysqlRows()).map((row) => row.email)).toEqual(["grace@example.com"]);
  });

  it("keeps its data across a restart of the service container", async () => {
    const created = await call("POST", "/users", { email: "linus@example.com", name: "Linus", pwd: "penguin-1991" });
    expect(created.status).toBe(201);
    const { userId } = created.json as { userId: string };

    await users.restart();

    expect(await call("GET", `/users/${userId}`)).toMatchObject({ status: 200, json: { email: "linus@example.com", userId, orders: [] } });
    expect((await call("GET", "/users")).json).toHaveLength(2);
    const login = await call("POST", "/login", { email: "linus@example.com", password: "penguin-1991" });
    expect(login.status).toBe(200);
    expect(login.headers.get("userid")).toBe(userId);
  });

  it("rides out a restart of MySQL: the pool reconnects and the rows are still there", async () => {
    await mysql.restart();
    const list = await call("GET", "/users");
    expect(list.status).toBe(200);
    expect((list.json as { email: string }[]).map((u) => u.email)).toEqual(["grace@example.com", "linus@example.com"]);
    expect(await call("GET", "/health_check")).toMatchObject({ status: 200 });
  });

  it("shuts down gracefully on SIGTERM (exit code 0, pool closed)", async () => {
    const second = await new UsersServiceContainer().withNetwork(network).withMySql(mysql).withTokenSecret(SECRET).start();
    expect((await fetch(`${second.getBaseUrl()}/users`)).status).toBe(200);
    const stopped = await second.stop({ timeoutMs: 10_000, remove: false });
    try {
      const engine = await getEngine();
      const inspect = await engine.inspectContainer(stopped.getId());
      expect(inspect.State.ExitCode).toBe(0);
      const logs = await engine.tailLogs(stopped.getId(), 5);
      expect(logs).toMatch(/users-service: SIGTERM: shutting down\n.*users-service: stopped$/);
    } finally {
      await stopped.remove();
    }
  });
});

describe("UsersServiceContainer.withMySql", () => {
  it("refuses an alias the MySQL container does not have, naming the ones it has", () => {
    const error = (() => {
      try {
        new UsersServiceContainer().withMySql(mysql, "db");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe(
      'Expected `withMySql(mysql, alias)` to be a network alias of the MySQL container (mysql), got `"db"` (string): start MySQL with withNetwork(network).withNetworkAliases(alias), and this container withNetwork(network)',
    );
  });
});

describe("throwaway.fixtures.ts", () => {
  it("starts the whole environment with up() and stops all of it", async () => {
    const environment = await up();
    const networkId = environment.network.getId();
    try {
      const welcome = await fetch(`${environment.usersService.getBaseUrl()}/welcome`);
      expect(await welcome.text()).toBe("Welcome to the Simple E-commerce.");
      expect(environment.mysql.getNetworkNames()).toEqual([environment.network.getName()]);
    } finally {
      await environment.stop();
    }
    const engine = await getEngine();
    await expect(engine.inspectNetwork(networkId)).rejects.toMatchObject({ statusCode: 404 });
    await expect(engine.inspectContainer(environment.usersService.getId())).rejects.toMatchObject({ statusCode: 404 });
  });
});
