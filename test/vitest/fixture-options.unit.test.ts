import { GenericContainer, InvalidOptionError, type StartedContainer } from "throwaway";
import { containerFixture, defineGlobalSetup, mysqlFixtures, startedContainer } from "throwaway/vitest";
import { describe, expect, expectTypeOf, it, test } from "vitest";

// Pure logic: nothing here reaches the engine (factories are never started or fail before a start).

describe("containerFixture options", () => {
  it("returns vitest's tuple: the fixture and its scope, `test` unless told", () => {
    const factory = () => new GenericContainer("busybox:latest");
    expect(containerFixture(factory)[1]).toEqual({ scope: "test", auto: false });
    expect(containerFixture(factory, { scope: "worker", auto: true })[1]).toEqual({ scope: "worker", auto: true });
  });

  it.each([
    [{ scope: "suite" }, 'Expected `containerFixture({ scope })` to be "test", "file" or "worker", got `"suite"` (string)'],
    [{ auto: "yes" }, 'Expected `containerFixture({ auto })` to be a boolean, got `"yes"` (string)'],
    [
      { failureLogLines: -1 },
      "Expected `containerFixture({ failureLogLines })` to be a whole number of lines, 0 or more, got `-1` (number)",
    ],
    [
      { failureLogLines: 2.5 },
      "Expected `containerFixture({ failureLogLines })` to be a whole number of lines, 0 or more, got `2.5` (number)",
    ],
  ])("rejects %j where it is defined, naming the option", (options, message) => {
    const define = () => containerFixture(() => new GenericContainer("busybox:latest"), options as never);
    expect(define).toThrow(InvalidOptionError);
    expect(define).toThrow(message);
  });

  it("rejects a factory that is not a function", () => {
    expect(() => containerFixture("busybox:latest" as never)).toThrow(
      'Expected `containerFixture(factory)` to be a function returning a container to start, e.g. `() => new GenericContainer(image)`, got `"busybox:latest"` (string)',
    );
  });

  it("tells the builder syntax takes the scope itself", () => {
    expect(() => startedContainer(() => new GenericContainer("busybox:latest"), { scope: "file" } as never)).toThrow(
      'Expected `startedContainer({ scope })` to be absent: the builder syntax takes the scope itself, got `"file"` (string): write test.extend("name", { scope: "file" }, startedContainer(factory))',
    );
  });

  it("fails the test that uses it when the factory returns no container to start", async () => {
    const [fixture] = containerFixture(() => ({ id: "started already" }) as never);
    await expect(fixture({}, async () => {})).rejects.toThrow(
      'Expected `the container fixture\'s factory result` to be a container to start (with a `start()` method), got `{"id":"started already"}` (Object): return the builder, e.g. `() => new GenericContainer(image)`, not a started container',
    );
  });

  it("shows vitest the factory's parameters, so the fixtures it destructures are set up first", () => {
    const factory = ({ network }: { network: string }) => new GenericContainer("busybox:latest").withNetworkMode(network);
    expect(String(containerFixture(factory)[0])).toBe(String(factory));
    expect(String(startedContainer(factory))).toBe(String(factory));
  });
});

describe("mysqlFixtures options", () => {
  it("shares one MySQL per worker unless told, and gives tests a test-scoped clean view of it", () => {
    const fixtures = mysqlFixtures();
    expect(fixtures.mysqlContainer[1]).toEqual({ scope: "worker", auto: false });
    expect(fixtures.mysql[1]).toEqual({ scope: "test", auto: false });
    expect(mysqlFixtures({ scope: "file" }).mysqlContainer[1].scope).toBe("file");
    // vitest sets up the shared MySQL before the per-test fixture, as it reads from this.
    expect(String(fixtures.mysql[0])).toBe("({ mysqlContainer }) => {}");
  });

  it.each([
    [
      { scope: "test" },
      'Expected `mysqlFixtures({ scope })` to be "file" or "worker", got `"test"` (string): that is how widely the one MySQL is shared; the test-scoped `mysql` fixture already gives every test a clean database',
    ],
    [{ seed: "schema.sql" }, 'Expected `mysqlFixtures({ seed })` to be a function of the started MySQL, got `"schema.sql"` (string)'],
    [
      { container: "mysql:5.7" },
      'Expected `mysqlFixtures({ container })` to be a function returning a container to start, e.g. `() => new GenericContainer(image)`, got `"mysql:5.7"` (string)',
    ],
    [
      { failureLogLines: "all" },
      'Expected `mysqlFixtures({ failureLogLines })` to be a whole number of lines, 0 or more, got `"all"` (string)',
    ],
  ])("rejects %j", (options, message) => {
    expect(() => mysqlFixtures(options as never)).toThrow(message);
  });
});

describe("defineGlobalSetup definitions", () => {
  it.each([
    [[], "Expected `defineGlobalSetup(definitions)` to be an object of container definitions by name, got `[]` (array)"],
    [
      {},
      "Expected `defineGlobalSetup(definitions)` to be at least one container definition, got `{}` (Object): e.g. { mysql: () => new MySqlContainer() }",
    ],
    [
      { web: "busybox:latest" },
      'Expected `defineGlobalSetup({ web })` to be a factory, or `{ container: factory, provide?: (started) => value }`, got `"busybox:latest"` (string)',
    ],
    [
      { web: { container: () => new GenericContainer("busybox:latest"), provide: { host: "x" } } },
      'Expected `defineGlobalSetup({ web })` to be a factory, or `{ container: factory, provide?: (started) => value }`, got `{"provide":{"host":"x"}}` (Object)',
    ],
  ])("rejects %j", (definitions, message) => {
    expect(() => defineGlobalSetup(definitions as never)).toThrow(message);
  });
});

// Compile-time checks (`npm run typecheck`; never called): fixtures carry the started container's type into tests.
function typeChecks(): void {
  const viaGenerics = test.extend<{ web: StartedContainer }>({ web: containerFixture(() => new GenericContainer("busybox:latest")) });
  viaGenerics("", ({ web }) => {
    expectTypeOf(web.getMappedPort).toBeFunction();
  });
  const viaBuilder = test
    .extend("name", { scope: "worker" }, () => "n")
    .extend(
      "web",
      { scope: "file" },
      startedContainer(({ name }) => new GenericContainer("busybox:latest").withName(name)),
    );
  viaBuilder("", ({ web }) => {
    expectTypeOf(web).toEqualTypeOf<StartedContainer>();
  });
  // vitest's scoped syntax: the factory's fixtures are typed from the declaration.
  test.extend<{ $worker: { name: string; web: StartedContainer } }>({
    name: [async (_: object, use) => use("n"), { scope: "worker" }],
    web: containerFixture(({ name }) => new GenericContainer("busybox:latest").withName(name), { scope: "worker" }),
  });
  test.extend<{ $worker: { name: number; web: StartedContainer } }>({
    name: [async (_: object, use) => use(1), { scope: "worker" }],
    // @ts-expect-error `name` is a number here
    web: containerFixture(({ name }) => new GenericContainer("busybox:latest").withName(name), { scope: "worker" }),
  });
}
void typeChecks;
