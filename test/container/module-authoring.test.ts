// Module authoring against the real engine: lifecycle hooks in order, a throwing hook fails the start and leaves
// nothing, module defaults go into a per-start copy (two concurrent starts of one builder), the user's options win,
// and a module's own started type.

import { execFileSync } from "node:child_process";
import {
  type ContainerHandleState,
  type ContainerInspect,
  GenericContainer,
  getEngine,
  getSessionId,
  LABELS,
  LifecycleHookError,
  type ModuleDefaults,
  StartedContainer,
  Wait,
} from "throwaway";
import { describe, expect, it } from "vitest";

const FILE_LABEL = "test.throwaway.file";
const FILE_ID = `${process.pid}-${Date.now()}-modules`;

function sessionContainers(): string[] {
  const filters = ["--filter", `label=${LABELS.session}=${getSessionId()}`, "--filter", `label=${FILE_LABEL}=${FILE_ID}`];
  return execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

type HookName = "beforeContainerCreated" | "containerCreated" | "containerStarting" | "containerStarted";

class StartedGreeter extends StartedContainer {
  readonly events: string[] = [];
  failOn: "containerStopping" | "containerStopped" | undefined;

  greeting(): Promise<string> {
    return this.exec(["sh", "-c", "cat /greeting; printf ' %s' \"$GREETING\""]).then((r) => r.stdout.trim());
  }

  protected override containerStopping(): void {
    this.events.push("containerStopping");
    if (this.failOn === "containerStopping") throw new Error("stopping refused");
  }

  protected override containerStopped(): void {
    this.events.push("containerStopped");
    if (this.failOn === "containerStopped") throw new Error("stopped refused");
  }
}

/** A tiny module: busybox with defaults of its own, every hook recorded, one of them made to throw on demand. */
class GreeterContainer extends GenericContainer<StartedGreeter> {
  readonly events: string[] = [];
  failOn: HookName | undefined;
  /** Makes the module's defaults slow, so two concurrent starts overlap inside them. */
  defaultsDelayMs = 0;

  constructor() {
    super("busybox:latest");
    this.withLabels({ [FILE_LABEL]: FILE_ID });
  }

  protected override async moduleDefaults(): Promise<ModuleDefaults> {
    await new Promise((resolve) => setTimeout(resolve, this.defaultsDelayMs));
    return {
      env: { GREETING: "module" },
      exposedPorts: [8080],
      command: ["sh", "-c", "httpd -f -p 8080"],
      copies: [{ kind: "content", content: "hello", target: "/greeting" }],
      waitStrategy: Wait.forListeningPorts(),
    };
  }

  protected override createStarted(state: ContainerHandleState): StartedGreeter {
    return new StartedGreeter(state);
  }

  private record(hook: HookName, detail = ""): void {
    this.events.push(detail ? `${hook}(${detail})` : hook);
    if (this.failOn === hook) throw new Error(`${hook} refused`);
  }

  protected override beforeContainerCreated(): void {
    this.record("beforeContainerCreated");
  }
  protected override async containerCreated(id: string): Promise<void> {
    await Promise.resolve();
    this.record("containerCreated", id.length === 64 ? "id" : id);
  }
  protected override containerStarting(inspect: ContainerInspect, reused: boolean): void {
    this.record("containerStarting", `${inspect.State.Running ? "running" : "not running"}, reused=${reused}`);
  }
  protected override containerStarted(started: StartedGreeter, reused: boolean): void {
    this.record("containerStarted", `${started instanceof StartedGreeter ? "StartedGreeter" : "?"}, reused=${reused}`);
  }
}

describe("lifecycle hooks", () => {
  it("run in order on start and stop, and the start resolves to the module's own started type", async () => {
    const builder = new GreeterContainer();
    const started = await builder.start();
    expect(started).toBeInstanceOf(StartedGreeter);
    expect(await started.greeting()).toBe("hello module");
    await started.stop();
    expect(builder.events).toEqual([
      "beforeContainerCreated",
      "containerCreated(id)",
      "containerStarting(running, reused=false)",
      "containerStarted(StartedGreeter, reused=false)",
    ]);
    expect(started.events).toEqual(["containerStopping", "containerStopped"]);
  });

  it("add no Engine API call to a start", async () => {
    const engine = await getEngine();
    const plain = () =>
      new GenericContainer("busybox:latest")
        .withLabels({ [FILE_LABEL]: FILE_ID })
        .withCommand(["sh", "-c", "httpd -f -p 8080"])
        .withExposedPorts(8080)
        .withCopyContentToContainer([{ content: "hello", target: "/greeting" }])
        .withWaitStrategy(Wait.forListeningPorts());
    await (await plain().start()).stop(); // warm the image
    let before = engine.apiCalls;
    const a = await plain().start();
    const plainCalls = engine.apiCalls - before;
    before = engine.apiCalls;
    const b = await new GreeterContainer().start();
    const hookedCalls = engine.apiCalls - before;
    await Promise.all([a.stop(), b.stop()]);
    expect(hookedCalls).toBe(plainCalls);
  });

  for (const hook of ["beforeContainerCreated", "containerCreated", "containerStarting", "containerStarted"] as const) {
    it(`a throwing ${hook} fails the start naming it, and removes what the start created`, async () => {
      const before = sessionContainers().length;
      const builder = new GreeterContainer();
      builder.failOn = hook;
      const error = await builder.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LifecycleHookError);
      const hookError = error as LifecycleHookError;
      expect(hookError.hook).toBe(hook);
      expect(hookError.shortMessage).toContain(`GreeterContainer.${hook}() threw: ${hook} refused`);
      expect((hookError.cause as Error).message).toBe(`${hook} refused`);
      expect(sessionContainers()).toHaveLength(before);
    });
  }

  for (const hook of ["containerStopping", "containerStopped"] as const) {
    it(`a throwing ${hook} fails stop() naming it, and the container still goes`, async () => {
      const started = await new GreeterContainer().start();
      started.failOn = hook;
      const error = await started.stop().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LifecycleHookError);
      expect((error as LifecycleHookError).hook).toBe(hook);
      expect(sessionContainers()).not.toContain(started.getId().slice(0, 12));
    });
  }
});

describe("module defaults", () => {
  it("go into a copy per start: one builder started twice at once gives two equal containers", async () => {
    const builder = new GreeterContainer();
    builder.defaultsDelayMs = 50;
    const [a, b] = await Promise.all([builder.start(), builder.start()]);
    try {
      expect(a.getId()).not.toBe(b.getId());
      for (const c of [a, b]) {
        expect(await c.greeting()).toBe("hello module");
        expect(Object.keys(c.getInspectResult().NetworkSettings.Ports ?? {})).toEqual(["8080/tcp"]);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    // The builder kept only what the user recorded: a third start is the same again.
    const c = await builder.start();
    try {
      expect(await c.greeting()).toBe("hello module");
      expect((c.getInspectResult().Config.Env ?? []).filter((e) => e.startsWith("GREETING="))).toEqual(["GREETING=module"]);
    } finally {
      await c.stop();
    }
  });

  it("lose to what the user set explicitly", async () => {
    const c = await new GreeterContainer()
      .withEnvironment({ GREETING: "user" })
      .withCopyContentToContainer([{ content: "hi", target: "/greeting" }])
      .withExposedPorts({ container: 8080, protocol: "tcp" })
      .start();
    try {
      expect(await c.greeting()).toBe("hi user");
      expect(Object.keys(c.getInspectResult().NetworkSettings.Ports ?? {})).toEqual(["8080/tcp"]);
    } finally {
      await c.stop();
    }
  });
});
