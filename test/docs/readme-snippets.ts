/**
 * The README's code, compiled by `npm run typecheck` so the documentation cannot drift from the API. Not run: the
 * behaviour each snippet shows is covered by the tests of its area.
 */
import {
  type ContainerHandleState,
  defineFixtures,
  GenericContainer,
  type ModuleDefaults,
  Network,
  StartedContainer,
  Wait,
} from "throwaway";
import { DockerComposeEnvironment } from "throwaway/compose";
import { MySqlContainer } from "throwaway/mysql";
import { containerFixture, defineGlobalSetup, type MySqlFixtures, mysqlFixtures, type ProvidedBy } from "throwaway/vitest";
import { test } from "vitest";

export async function intro(): Promise<void> {
  await using mysql = await new MySqlContainer().start();
  const rows = await mysql.executeQuery("SELECT ? + 1 AS answer", [41]);
  void rows;
  await using web = await new GenericContainer("busybox").withCommand(["httpd", "-f", "-p", "8080"]).withExposedPorts(8080).start();
  await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`);
}

export async function containers(): Promise<void> {
  const container = await new GenericContainer("busybox:latest")
    .withExposedPorts(8080, { container: 9090, host: 19090 }, "53/udp")
    .withEnvironment({ MODE: "test" })
    .withCommand(["httpd", "-f", "-p", "8080"])
    .withCopyContentToContainer([{ content: "hello\n", target: "/www/index.html" }])
    .withWaitStrategy(Wait.forHttp("/", 8080))
    .withStartupTimeout(30_000)
    .start();
  container.getHost();
  container.getMappedPort(8080);
  await container.exec(["sh", "-c", "ls /www"]);
  for await (const line of await container.logs({ tail: 20 })) console.log(line);
  await container.restart();
  await container.stop();
  const { exitCode, stdout } = await new GenericContainer("busybox").withCommand(["echo", "hi"]).run();
  void exitCode;
  void stdout;
}

export async function mysqlSection(): Promise<void> {
  await using mysql = await new MySqlContainer()
    .withRootPassword("")
    .withInitScripts("test/schema.sql", { sql: "INSERT INTO users VALUES (1, 'ada')" })
    .start();
  mysql.getConnectionUri();
  await mysql.executeQuery("SELECT * FROM users WHERE id = ?", [1]);
  await mysql.snapshot();
  await mysql.restore();
}

export async function builds(): Promise<void> {
  const app = await GenericContainer.fromDockerfile("examples/users-service").withBuildArgs({ NODE_ENV: "test" }).build();
  await using started = await app.withExposedPorts(8080).start();
  void started;
  const image = await GenericContainer.fromDockerfile("examples/users-service").buildImage("you/users-service:1.0");
  await image.push({ auth: { username: "you", password: process.env.REGISTRY_TOKEN ?? "" } });
}

export async function networks(): Promise<void> {
  await using network = await new Network().start();
  await using db = await new MySqlContainer().withNetwork(network).withNetworkAliases("mysql").start();
  await using app = await new GenericContainer("you/app:1.0").withNetwork(network).withEnvironment({ DB_HOST: "mysql" }).start();
  void db;
  void app;
}

export const it = test.extend<{ web: StartedContainer }>({
  web: containerFixture(() => new GenericContainer("busybox").withCommand(["httpd", "-f", "-p", "8080"]).withExposedPorts(8080), {
    scope: "file",
  }),
});

export const dbTest = test.extend<MySqlFixtures>(mysqlFixtures({ scope: "worker", seed: (m) => m.executeScript("test/schema.sql") }));
export function dbTests(): void {
  dbTest("creates a user", async ({ mysql }) => {
    await mysql.executeQuery("INSERT INTO users (name) VALUES (?)", ["ada"]);
  });
}

export const devFixtures = defineFixtures()
  .add("network", () => new Network())
  .add("mysql", ["network"], ({ network }) => new MySqlContainer().withNetwork(network).withNetworkAliases("mysql"));

export async function fixturesInTests(): Promise<void> {
  await using env = await devFixtures.start();
  env.mysql.getConnectionUri();
}

const setup = defineGlobalSetup({ mysql: () => new MySqlContainer() });
export default setup;
export type Provided = ProvidedBy<typeof setup>;

export async function composeSection(): Promise<void> {
  await using env = await new DockerComposeEnvironment("examples/users-service", "docker-compose.yml")
    .withEnvironment({ TOKEN_SECRET: "a-test-secret-of-at-least-32-characters" })
    .withProfiles("debug")
    .withWaitStrategy("users-service-1", Wait.forHttp("/health_check", 8080))
    .up();
  const users = env.getContainer("users-service-1");
  void users;
  await env.stop();
}

export class StartedUsersService extends StartedContainer {
  getBaseUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(8080)}`;
  }
}

export class UsersService extends GenericContainer<StartedUsersService> {
  constructor() {
    super("throwaway-examples/users-service:latest");
  }

  withGreeting(message: string): this {
    return this.withEnvironment({ GREETING_MESSAGE: message });
  }

  protected override moduleDefaults(): ModuleDefaults {
    return { exposedPorts: [8080], env: { PORT: 8080 }, waitStrategy: Wait.forHttp("/health_check", 8080) };
  }

  protected override createStarted(state: ContainerHandleState): StartedUsersService {
    return new StartedUsersService(state);
  }
}

export async function writingAModule(): Promise<void> {
  const users = await new UsersService().withGreeting("hi").start();
  await fetch(`${users.getBaseUrl()}/welcome`);
}
