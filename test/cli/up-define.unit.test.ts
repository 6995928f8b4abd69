// Pure logic behind `throwaway up`, with fake builders: defineFixtures' checks and types, the start scheduler
// (order, parallelism, failures, abort, stop order), and the output helpers (connection block, env file, project
// names, exec frames, colours). Everything that touches the engine is in up.test.ts and exec.test.ts.
import {
  ContainerStartError,
  defineFixtures,
  type Engine,
  FixtureStartError,
  InvalidOptionError,
  StartedContainer,
  StartedNetwork,
  type Stoppable,
} from "throwaway";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { CliIo } from "../../src/cli/command.js";
import { connectionLines, describeFixture, envEntries, envFileText, envName, type FixtureInfo } from "../../src/cli/up/describe.js";
import { frameSplitter } from "../../src/cli/up/exec-session.js";
import { ProgressPrinter } from "../../src/cli/up/progress.js";
import { defaultProjectName } from "../../src/cli/up/project.js";
import { colorsEnabled, styler } from "../../src/cli/up/style.js";
import { selectFixtures, startFixtureSet } from "../../src/fixtures/run.js";
import type { FixtureEvent } from "../../src/fixtures/types.js";

/** A started fake: records its stop in the shared log. */
class FakeStarted implements Stoppable {
  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly failStop = false,
  ) {}
  async stop(): Promise<void> {
    this.log.push(`stop ${this.name}`);
    if (this.failStop) throw new Error(`${this.name} would not stop`);
  }
}

interface Gate {
  open(): void;
  fail(error: unknown): void;
  promise: Promise<void>;
}
function gate(): Gate {
  let open!: () => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  promise.catch(() => {});
  return { open, fail, promise };
}

/** An unstarted fake whose start() waits for its gate; logs `start <name>` when called. */
function fake(name: string, log: string[], gates: Map<string, Gate>, options: { failStop?: boolean } = {}) {
  const g = gate();
  gates.set(name, g);
  return {
    async start(): Promise<FakeStarted> {
      log.push(`start ${name}`);
      await g.promise;
      log.push(`ready ${name}`);
      return new FakeStarted(name, log, options.failStop);
    },
  };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

describe("defineFixtures().add()", () => {
  const base = defineFixtures().add("network", () => ({ start: async () => new FakeStarted("network", []) }));

  it("types each fixture's needs and the started set from the builders' start()", async () => {
    const fixtures = base
      .add("db", ["network"], ({ network }) => {
        expectTypeOf(network).toEqualTypeOf<FakeStarted>();
        return { start: async () => ({ stop: async () => {}, url: "db://x" }) };
      })
      .add("api", ["db"], async ({ db }, context) => {
        expectTypeOf(db.url).toEqualTypeOf<string>();
        expectTypeOf(context.keep).toEqualTypeOf<boolean>();
        return { start: async () => new FakeStarted("api", []) };
      });
    expect(fixtures.names).toEqual(["network", "db", "api"]);
    expect(fixtures.definitions.map((d) => [d.name, d.needs])).toEqual([
      ["network", []],
      ["db", ["network"]],
      ["api", ["db"]],
    ]);
    const started = await fixtures.start();
    expectTypeOf(started.db.url).toEqualTypeOf<string>();
    expectTypeOf(started.api).toEqualTypeOf<FakeStarted>();
    expect(started.db.url).toBe("db://x");
    await started.stop();
    // @ts-expect-error: a name is used once per set.
    expect(() => fixtures.add("db", () => ({ start: async () => new FakeStarted("x", []) }))).toThrow(InvalidOptionError);
    // @ts-expect-error: needs name fixtures declared before.
    expect(() => fixtures.add("web", ["cache"], () => ({ start: async () => new FakeStarted("x", []) }))).toThrow(InvalidOptionError);
  });

  it("is immutable: add() returns a new set and leaves the old one as it was", () => {
    const more = base.add("db", () => ({ start: async () => new FakeStarted("db", []) }));
    expect(base.names).toEqual(["network"]);
    expect(more.names).toEqual(["network", "db"]);
    expect(String(more)).toBe("Fixtures(network, db)");
  });

  it("rejects bad names, reserved names, a name used twice, unknown or later needs and a missing factory, naming the fix", () => {
    const loose = base as unknown as { add(...args: unknown[]): unknown };
    const create = () => ({ start: async () => new FakeStarted("x", []) });
    const cases: [unknown[], string][] = [
      [
        ["1db", create],
        'Expected `add(name)` to be a fixture name of letters, digits, `_` and `-` starting with a letter (1-63 characters), got `"1db"` (string)',
      ],
      [
        ["stop", create],
        'Expected `add(name)` to be a name other than `stop` and `then` (the started set uses them), got `"stop"` (string)',
      ],
      [["network", create], 'Expected `add(name)` to be a name not used yet in this set (network), got `"network"` (string)'],
      [
        ["api", ["network", "cache"], create],
        'Expected `add("api", needs)` to be names of fixtures declared before it (network), got `"cache"` (string): declare a fixture before the fixtures that need it',
      ],
      // A fixture cannot need itself, nor anything declared after it: so a set never has a cycle.
      [
        ["api", ["api"], create],
        'Expected `add("api", needs)` to be names of fixtures declared before it (network), got `"api"` (string): declare a fixture before the fixtures that need it',
      ],
      [["api", "network", create], 'Expected `add("api", needs)` to be an array of fixture names, got `"network"` (string)'],
      [
        ["api", ["network"], "nope"],
        'Expected `add("api", create)` to be a function that returns the unstarted builder, got `"nope"` (string)',
      ],
    ];
    for (const [args, message] of cases) {
      const error = thrown(() => loose.add(...args));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).shortMessage).toBe(message);
    }
  });

  it("refuses to start an empty set", async () => {
    await expect(defineFixtures().start()).rejects.toMatchObject({
      shortMessage:
        'Expected `start()` to be called on a set with fixtures, got `"an empty set"` (string): add fixtures with add(name, create)',
    });
  });
});

describe("starting a set", () => {
  it("starts each fixture after its needs, independent ones side by side, and stops dependents first", async () => {
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const fixtures = defineFixtures()
      .add("network", () => fake("network", log, gates))
      .add("mysql", ["network"], () => fake("mysql", log, gates))
      .add("cache", ["network"], () => fake("cache", log, gates))
      .add("api", ["mysql", "cache"], ({ mysql, cache }) => {
        log.push(`api gets ${mysql.name} and ${cache.name}`);
        return fake("api", log, gates);
      });
    const events: string[] = [];
    const starting = fixtures.start({ onEvent: (e) => events.push(`${e.type} ${e.name}`) });
    await settle();
    expect(log).toEqual(["start network"]);
    gates.get("network")!.open();
    await settle();
    // Both start before either is ready: side by side.
    expect(log).toEqual(["start network", "ready network", "start mysql", "start cache"]);
    gates.get("cache")!.open();
    await settle();
    expect(log.includes("start api")).toBe(false);
    gates.get("mysql")!.open();
    await settle();
    gates.get("api")!.open();
    const started = await starting;
    expect(log.slice(6)).toEqual(["api gets mysql and cache", "start api", "ready api"]);
    expect(Object.keys(started).sort()).toEqual(["api", "cache", "mysql", "network", "stop"]);
    expect(events.filter((e) => e.startsWith("ready"))).toEqual(["ready network", "ready cache", "ready mysql", "ready api"]);

    log.length = 0;
    await started.stop();
    await started[Symbol.asyncDispose]();
    // api before mysql and cache (which go side by side), the network last; the second stop does nothing.
    expect(log[0]).toBe("stop api");
    expect(log.slice(1, 3).sort()).toEqual(["stop cache", "stop mysql"]);
    expect(log[3]).toBe("stop network");
    expect(log).toHaveLength(4);
  });

  it("on a failure skips what needs it, waits for what is starting, stops what started and throws one FixtureStartError", async () => {
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const fixtures = defineFixtures()
      .add("network", () => fake("network", log, gates))
      .add("mysql", ["network"], () => fake("mysql", log, gates))
      .add("cache", ["network"], () => fake("cache", log, gates))
      .add("api", ["mysql", "cache"], () => fake("api", log, gates));
    const events: FixtureEvent[] = [];
    const starting = fixtures.start({ onEvent: (e) => events.push(e) });
    await settle();
    gates.get("network")!.open();
    await settle();
    gates.get("cache")!.fail(
      new ContainerStartError("Starting container 3f2a9c1b7d10 (redis:7) failed: port is already allocated", {
        details: "log line 1\nlog line 2",
      }),
    );
    await settle();
    // mysql is still starting: nothing is stopped until it is done, so nothing is left behind.
    expect(log.some((line) => line.startsWith("stop"))).toBe(false);
    gates.get("mysql")!.open();
    const error = await starting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FixtureStartError);
    const failure = error as FixtureStartError;
    expect(failure.shortMessage).toBe(
      "Fixture `cache` failed to start: Starting container 3f2a9c1b7d10 (redis:7) failed: port is already allocated",
    );
    expect(failure.details).toBe("log line 1\nlog line 2");
    expect(failure.fixture).toBe("cache");
    expect(failure.cause).toBeInstanceOf(ContainerStartError);
    expect(log.filter((line) => line.startsWith("stop"))).toEqual(["stop mysql", "stop network"]);
    expect(log.includes("start api")).toBe(false);
    expect(events.filter((e) => e.type === "skipped")).toEqual([
      { type: "skipped", name: "api", reason: "needs cache, which did not start" },
    ]);
  });

  it("says when a factory returns something that cannot start, e.g. a started container", async () => {
    const started = new FakeStarted("db", []);
    const fixtures = defineFixtures().add("db", () => started as never);
    await expect(fixtures.start()).rejects.toMatchObject({
      shortMessage:
        'Fixture `db` failed to start: Expected `add("db", create)` to be a factory returning an unstarted builder (with a start() method), got `{"name":"db","log":[],"failStop":false}` (FakeStarted): that is what it returned; return e.g. `new GenericContainer(image)`, without calling start()',
    });
  });

  it("wraps a plain error's first line and keeps the rest as details", async () => {
    const fixtures = defineFixtures().add("db", () => {
      throw new Error("no image given\nset DB_IMAGE first");
    });
    const error = (await fixtures.start().catch((e: unknown) => e)) as FixtureStartError;
    expect(error.shortMessage).toBe("Fixture `db` failed to start: no image given");
    expect(error.details).toBe("set DB_IMAGE first");
  });

  it("on abort stops what started at once, and what was still starting as soon as it is up", async () => {
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const fixtures = defineFixtures()
      .add("network", () => fake("network", log, gates))
      .add("mysql", ["network"], () => fake("mysql", log, gates))
      .add("api", ["mysql"], () => fake("api", log, gates));
    const controller = new AbortController();
    const starting = startFixtureSet(fixtures.definitions, { signal: controller.signal });
    await settle();
    gates.get("network")!.open();
    await settle();
    const reason = new Error("SIGINT received");
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    expect(log).toEqual(["start network", "ready network", "start mysql", "stop network"]);
    gates.get("mysql")!.open();
    await settle();
    await settle();
    expect(log.slice(4)).toEqual(["ready mysql", "stop mysql"]);
    expect(log.includes("start api")).toBe(false);
  });

  it("with leaveStartedOnFailure, leaves what started running (throwaway up --keep cleans up itself)", async () => {
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const fixtures = defineFixtures()
      .add("network", () => fake("network", log, gates))
      .add("mysql", ["network"], () => fake("mysql", log, gates));
    const starting = startFixtureSet(fixtures.definitions, { leaveStartedOnFailure: true });
    await settle();
    gates.get("network")!.open();
    await settle();
    gates.get("mysql")!.fail(new Error("boom"));
    await expect(starting).rejects.toBeInstanceOf(FixtureStartError);
    expect(log.some((line) => line.startsWith("stop"))).toBe(false);
  });

  it("tries every stop and reports all failures", async () => {
    const log: string[] = [];
    const gates = new Map<string, Gate>();
    const fixtures = defineFixtures()
      .add("a", () => fake("a", log, gates, { failStop: true }))
      .add("b", () => fake("b", log, gates, { failStop: true }))
      .add("c", ["a", "b"], () => fake("c", log, gates));
    for (const g of ["a", "b", "c"]) setImmediate(() => gates.get(g)?.open());
    const starting = fixtures.start();
    await settle();
    gates.get("c")!.open();
    const started = await starting;
    const error = await started.stop().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message).sort()).toEqual(["a would not stop", "b would not stop"]);
    expect(log.filter((line) => line.startsWith("stop")).sort()).toEqual(["stop a", "stop b", "stop c"]);
  });

  it("passes each factory its context: name, keep, and a progress reporter", async () => {
    const events: FixtureEvent[] = [];
    const contexts: unknown[] = [];
    const fixtures = defineFixtures().add("db", (_needs, context) => {
      contexts.push({ name: context.name, keep: context.keep });
      context.onProgress({ kind: "build", image: "app:1", status: "Step 1/2 : FROM busybox" });
      return { start: async () => new FakeStarted("db", []) };
    });
    await startFixtureSet(fixtures.definitions, { keep: true, onEvent: (e) => events.push(e) });
    expect(contexts).toEqual([{ name: "db", keep: true }]);
    expect(events[1]).toEqual({
      type: "progress",
      name: "db",
      progress: { kind: "build", image: "app:1", status: "Step 1/2 : FROM busybox" },
    });
  });

  it("selects a fixture with everything it needs, in declaration order", () => {
    const noop = () => ({ start: async () => new FakeStarted("x", []) });
    const fixtures = defineFixtures()
      .add("network", noop)
      .add("mysql", ["network"], noop)
      .add("cache", noop)
      .add("api", ["mysql"], noop)
      .add("web", ["cache"], noop);
    expect(selectFixtures(fixtures.definitions, ["api"]).map((d) => d.name)).toEqual(["network", "mysql", "api"]);
    expect(selectFixtures(fixtures.definitions, ["web", "network"]).map((d) => d.name)).toEqual(["network", "cache", "web"]);
    expect(() => selectFixtures(fixtures.definitions, ["nope"])).toThrow(
      'Expected `only` to be names of fixtures in the set (network, mysql, cache, api, web), got `"nope"` (string)',
    );
  });
});

/** A started-container handle over a made-up inspect answer: enough for what `up` prints (no engine is called). */
function handle(id: string, image: string, ports: Record<string, number>): StartedContainer {
  const inspect = {
    Id: id,
    Name: "/x",
    Config: { Labels: {}, Tty: false },
    NetworkSettings: {
      Ports: Object.fromEntries(Object.entries(ports).map(([key, port]) => [key, [{ HostIp: "127.0.0.1", HostPort: String(port) }]])),
      Networks: {},
    },
  };
  const state = { engine: { host: "127.0.0.1" }, id, name: "x", image, inspect, declaredPorts: Object.keys(ports) };
  return new StartedContainer(state as unknown as ConstructorParameters<typeof StartedContainer>[0]);
}

describe("progress lines", () => {
  it("say starting, pulling and building once per image with the build steps, ready (or reused) in how long, failed, skipped, removed", () => {
    const printed: string[] = [];
    const io: CliIo = { out: () => {}, err: (line) => printed.push(line) };
    const mysql = handle("3f2a9c1b7d10aaaa", "mysql:5.7", { "3306/tcp": 49153 });
    const kept = handle("0c8d1e2f3a4bbbbb", "users:1", {});
    const network = new StartedNetwork({} as Engine, "9a1b2c3d4e5fcccc", "demo-network");
    const printer = new ProgressPrinter(io, ["network", "mysql", "users"], styler(false), new Set([kept.getId()]));
    const events: FixtureEvent[] = [
      { type: "starting", name: "mysql" },
      { type: "progress", name: "mysql", progress: { kind: "pull", image: "mysql:5.7", status: "Pulling fs layer", id: "a1" } },
      { type: "progress", name: "mysql", progress: { kind: "pull", image: "mysql:5.7", status: "Downloading", id: "a1" } },
      { type: "progress", name: "users", progress: { kind: "build", image: "users:1", status: "Step 1/2 : FROM node:20-bookworm-slim\n" } },
      { type: "progress", name: "users", progress: { kind: "build", image: "users:1", status: " ---> 70cb38458d9b\n" } },
      { type: "progress", name: "users", progress: { kind: "build", image: "users:1", status: 'Step 2/2 : CMD   ["node"]' } },
      { type: "ready", name: "network", durationMs: 12, resource: network },
      { type: "ready", name: "mysql", durationMs: 2140, resource: mysql },
      { type: "ready", name: "users", durationMs: 95, resource: kept },
      {
        type: "failed",
        name: "users",
        error: new FixtureStartError("Fixture `users` failed to start: port is already allocated", { fixture: "users" }),
      },
      { type: "skipped", name: "network", reason: "needs mysql, which did not start" },
      { type: "stopped", name: "mysql", durationMs: 130 },
    ];
    for (const event of events) printer.onEvent(event);
    expect(printed).toEqual([
      "  mysql    starting",
      "  mysql    pulling mysql:5.7",
      "  users    building users:1",
      "  users    Step 1/2 : FROM node:20-bookworm-slim",
      '  users    Step 2/2 : CMD ["node"]',
      "  network  created network demo-network (12 ms)",
      "  mysql    ready in 2.1 s (mysql:5.7, container 3f2a9c1b7d10)",
      "  users    reused container 0c8d1e2f3a4b, ready in 95 ms",
      "  users    failed: port is already allocated",
      "  network  not started: needs mysql, which did not start",
      "  mysql    removed (130 ms)",
    ]);
    expect(printer.readyAt.has("mysql")).toBe(true);
    expect(describeFixture("mysql", mysql)).toEqual({
      name: "mysql",
      kind: "container",
      headline: "mysql:5.7, container 3f2a9c1b7d10",
      connection: { host: "127.0.0.1", ports: { "3306/tcp": 49153 }, values: {} },
    });
    expect(describeFixture("network", network)).toEqual({
      name: "network",
      kind: "network",
      headline: "network demo-network",
      networkName: "demo-network",
    });
  });
});

describe("output helpers", () => {
  const infos: FixtureInfo[] = [
    { name: "network", kind: "network", headline: "network demo-network", networkName: "demo-network" },
    {
      name: "mysql",
      kind: "container",
      headline: "mysql:5.7, container 3f2a9c1b7d10",
      connection: { host: "127.0.0.1", ports: { "3306/tcp": 49153 }, values: { uri: "mysql://root@127.0.0.1:49153/test", password: "" } },
    },
    {
      name: "usersService",
      kind: "container",
      headline: "users:1, container 0c8d1e2f3a4b",
      connection: { host: "127.0.0.1", ports: { "8080/tcp": 49154, "53/udp": 49155 }, values: { url: "http://127.0.0.1:49154" } },
    },
  ];

  it("prints one block per fixture, facts aligned", () => {
    expect(connectionLines(infos, styler(false), () => "cyan")).toEqual([
      "network       network demo-network",
      "mysql         mysql:5.7, container 3f2a9c1b7d10",
      "  host       127.0.0.1",
      "  port 3306  49153",
      "  uri        mysql://root@127.0.0.1:49153/test",
      "  password   (empty)",
      "usersService  users:1, container 0c8d1e2f3a4b",
      "  host         127.0.0.1",
      "  port 8080    49154",
      "  port 53/udp  49155",
      "  url          http://127.0.0.1:49154",
    ]);
  });

  it("names env variables after the fixture and the fact, and quotes only values that need it", () => {
    expect(envName("usersService", "url")).toBe("USERS_SERVICE_URL");
    expect(envName("my-db", "adminUrl")).toBe("MY_DB_ADMIN_URL");
    expect(envFileText(envEntries(infos), "heading")).toBe(
      [
        "# heading",
        "NETWORK_NAME=demo-network",
        "MYSQL_HOST=127.0.0.1",
        "MYSQL_PORT=49153",
        "MYSQL_PORT_3306=49153",
        "MYSQL_URI=mysql://root@127.0.0.1:49153/test",
        "MYSQL_PASSWORD=",
        "USERS_SERVICE_HOST=127.0.0.1",
        "USERS_SERVICE_PORT=49154",
        "USERS_SERVICE_PORT_8080=49154",
        "USERS_SERVICE_PORT_53_UDP=49155",
        "USERS_SERVICE_URL=http://127.0.0.1:49154",
        "",
      ].join("\n"),
    );
    expect(envFileText([["A", 'say "hi" $HOME `id`\\ now']], "h")).toBe('# h\nA="say \\"hi\\" \\$HOME \\`id\\`\\\\ now"\n');
  });

  it("names a project after the file's folder and a hash of its path", () => {
    expect(defaultProjectName("/home/ada/code/Users Service/throwaway.fixtures.ts")).toMatch(/^users-service-[0-9a-f]{8}$/);
    expect(defaultProjectName("/a/throwaway.fixtures.ts")).not.toBe(defaultProjectName("/b/a/throwaway.fixtures.ts"));
    expect(defaultProjectName("/a/b/x.ts")).toBe(defaultProjectName("/a/b/x.ts"));
    expect(defaultProjectName("/__/x.ts")).toMatch(/^fixtures-[0-9a-f]{8}$/);
  });

  it("splits exec output frames, also when a frame arrives in pieces", () => {
    const got: [number, string][] = [];
    const split = frameSplitter((stream, payload) => got.push([stream, payload.toString()]));
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const all = Buffer.concat([frame(1, "out 1\n"), frame(2, "err 1\n"), frame(1, "out 2\n")]);
    split(all.subarray(0, 5));
    split(all.subarray(5, 17));
    split(all.subarray(17));
    expect(got).toEqual([
      [1, "out 1\n"],
      [2, "err 1\n"],
      [1, "out 2\n"],
    ]);
  });

  it("colours only terminals, never with NO_COLOR, always with FORCE_COLOR", () => {
    const tty = { isTTY: true, hasColors: () => true } as unknown as NodeJS.WriteStream;
    const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
    expect(colorsEnabled(tty, {})).toBe(true);
    expect(colorsEnabled(pipe, {})).toBe(false);
    expect(colorsEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colorsEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorsEnabled(tty, { FORCE_COLOR: "0" })).toBe(false);
    expect(styler(true)("red", "x")).toBe("\x1b[31mx\x1b[39m");
    expect(styler(false)("red", "x")).toBe("x");
  });
});
