// The users-service example's docker-compose.yml, started natively by DockerComposeEnvironment: MySQL, then the
// service built from the Dockerfile once MySQL is healthy; a user written over HTTP is read back from MySQL.
import { randomBytes } from "node:crypto";
import { DockerComposeEnvironment } from "throwaway/compose";
import { beforeAll, expect, it } from "vitest";
import { bundleUsersService, EXAMPLE_DIR } from "./bundle.js";
import { httpCall } from "./http-call.js";

beforeAll(async () => {
  // The Dockerfile copies the bundle built on the host.
  await bundleUsersService();
});

it("starts docker-compose.yml: MySQL healthy first, then the service built from its Dockerfile", async () => {
  await using env = await new DockerComposeEnvironment(EXAMPLE_DIR, "docker-compose.yml")
    .withProjectName(`users-service-${randomBytes(4).toString("hex")}`)
    .withEnvironment({ GREETING_MESSAGE: "Hello from compose." })
    .up();
  expect(env.getContainerNames()).toEqual(["mysql-1", "users-service-1"]);
  const users = env.getContainer("users-service");
  const base = `http://${users.getHost()}:${users.getMappedPort(8080)}`;
  expect(await httpCall(base, "GET", "/welcome")).toMatchObject({ status: 200, text: "Hello from compose." });
  const created = await httpCall(base, "POST", "/users", { email: "ada@example.com", name: "Ada Lovelace", pwd: "analytical-1843" });
  expect(created.status).toBe(201);
  const rows = await env.getContainer("mysql-1").exec(["mysql", "-uroot", "-N", "-e", "SELECT name FROM users_service.users"]);
  expect(rows.stdout.trim()).toBe("Ada Lovelace");
});
