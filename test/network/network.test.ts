import { randomBytes } from "node:crypto";
import {
  EngineRequestError,
  GenericContainer,
  getEngine,
  getSessionId,
  InvalidOptionError,
  LABELS,
  Network,
  type StartedNetwork,
} from "throwaway";
import { describe, expect, it } from "vitest";
import { trackedResources } from "../../src/reaper/tracker.js";

const BUSYBOX = "busybox:latest";

/** A busybox web server answering `text` at /index.html on port 8080. */
function webServer(text: string): GenericContainer {
  return (
    new GenericContainer(BUSYBOX)
      .withCommand(["sh", "-c", `mkdir -p /www && echo '${text}' > /www/index.html && exec httpd -f -p 8080 -h /www`])
      // Exposed so the default wait (listening ports) holds the start until httpd listens.
      .withExposedPorts(8080)
  );
}

/** Runs wget once in a fresh busybox container on `network` and returns its result. */
function fetchFrom(network: StartedNetwork, url: string) {
  // No `-T`: the busybox stand-in's wget crashes (exit 139) with it.
  return new GenericContainer(BUSYBOX).withNetwork(network).withCommand(["wget", "-q", "-O", "-", url]).run();
}

async function networkExists(id: string): Promise<boolean> {
  const engine = await getEngine();
  return engine
    .inspectNetwork(id)
    .then(() => true)
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return false;
      throw error;
    });
}

function isTracked(id: string): boolean {
  return trackedResources().some((r) => r.kind === "network" && r.id === id);
}

describe("Network", () => {
  it("lets containers reach each other by alias", async () => {
    await using network = await new Network().start();
    await using _web = await webServer("hello from web").withNetwork(network).withNetworkAliases("web", "www").start();

    const byFirstAlias = await fetchFrom(network, "http://web:8080/index.html");
    expect(byFirstAlias).toMatchObject({ exitCode: 0, stdout: "hello from web\n" });
    const bySecondAlias = await fetchFrom(network, "http://www:8080/index.html");
    expect(bySecondAlias).toMatchObject({ exitCode: 0, stdout: "hello from web\n" });
  });

  it("keeps containers on other networks out", async () => {
    await using network = await new Network().start();
    await using other = await new Network().start();
    await using _web = await webServer("private").withNetwork(network).withNetworkAliases("web").start();

    const outsider = await fetchFrom(other, "http://web:8080/index.html");
    expect(outsider.exitCode).not.toBe(0);
    expect(outsider.stderr).toMatch(/bad address 'web:8080'/);
  });

  it("joins every network given with withNetwork, with the same aliases on each", async () => {
    await using front = await new Network().start();
    await using back = await new Network().start();
    await using web = await webServer("on both").withNetwork(front).withNetwork(back).withNetworkAliases("svc").start();

    expect(web.getNetworkNames().sort()).toEqual([front.getName(), back.getName()].sort());
    expect(await fetchFrom(front, "http://svc:8080/index.html")).toMatchObject({ exitCode: 0, stdout: "on both\n" });
    expect(await fetchFrom(back, "http://svc:8080/index.html")).toMatchObject({ exitCode: 0, stdout: "on both\n" });
  });

  it("creates a session-labelled bridge network with a random name, and stop() removes it once", async () => {
    const network = await new Network({ labels: { team: "users" } }).start();
    try {
      expect(network.getName()).toMatch(/^throwaway-[0-9a-f]{12}$/);
      expect(network.getId()).toMatch(/^[0-9a-f]{64}$/);
      const inspect = (await (await getEngine()).inspectNetwork(network.getId())) as unknown as {
        Name: string;
        Driver: string;
        Internal: boolean;
        Labels: Record<string, string>;
      };
      expect(inspect).toMatchObject({ Name: network.getName(), Driver: "bridge", Internal: false });
      expect(inspect.Labels).toMatchObject({ [LABELS.session]: getSessionId(), team: "users" });
      expect(isTracked(network.getId())).toBe(true);
    } finally {
      await network.stop();
    }
    expect(await networkExists(network.getId())).toBe(false);
    expect(isTracked(network.getId())).toBe(false);
    // Idempotent: a second stop (and a dispose after it) neither throws nor calls the engine again.
    const engine = await getEngine();
    const calls = engine.apiCalls;
    await network.stop();
    await network[Symbol.asyncDispose]();
    expect(engine.apiCalls).toBe(calls);
  });

  it("is removed when its `await using` scope ends", async () => {
    let id: string;
    {
      await using network = await new Network().start();
      id = network.getId();
      expect(await networkExists(id)).toBe(true);
    }
    expect(await networkExists(id)).toBe(false);
  });

  it("uses a given name, and says how to fix a name that is taken", async () => {
    const name = `throwaway-test-${randomBytes(4).toString("hex")}`;
    await using network = await new Network({ name, internal: true }).start();
    expect(network.getName()).toBe(name);

    const error = await new Network({ name }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRequestError);
    expect((error as EngineRequestError).shortMessage).toBe(
      `Creating network ${name} failed: network with name ${name} already exists: choose another \`name\`, or leave it unset for a random one`,
    );
  });

  it("refuses to remove a network a container is still attached to, naming it, and can be stopped once it is gone", async () => {
    const network = await new Network().start();
    const web = await webServer("attached")
      .withNetwork(network)
      .withName(`throwaway-attached-${randomBytes(4).toString("hex")}`)
      .start();
    try {
      const error = await network.stop().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineRequestError);
      expect((error as EngineRequestError).shortMessage).toBe(
        `Removing network ${network.getName()} failed: 1 container is still attached (${web.getName()} ${web.getId().slice(0, 12)}): stop it first (with \`await using\`, declare the network before its containers)`,
      );
      expect((error as EngineRequestError).statusCode).toBe(403);
      // Still there and still tracked, so the session's cleanup would remove it if nobody retried.
      expect(await networkExists(network.getId())).toBe(true);
      expect(isTracked(network.getId())).toBe(true);
    } finally {
      await web.stop();
    }
    await network.stop();
    expect(await networkExists(network.getId())).toBe(false);
  });

  it.each([
    [
      { name: "-leading-dash" },
      'Expected `new Network({ name })` to be a network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got `"-leading-dash"` (string)',
    ],
    [{ name: 42 }, "Expected `new Network({ name })` to be a network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got `42` (number)"],
    [
      { labels: { "dev.throwaway.session-id": "x" } },
      'Expected `new Network({ labels })` to be labels outside the reserved `dev.throwaway.` namespace, got `"dev.throwaway.session-id"` (string)',
    ],
    [{ labels: { team: 7 } }, 'Expected `new Network({ labels: { "team" } })` to be a string, got `7` (number)'],
    [{ internal: "yes" }, 'Expected `new Network({ internal })` to be a boolean, got `"yes"` (string)'],
  ])("rejects %j before creating anything", async (options, message) => {
    const engine = await getEngine();
    const calls = engine.apiCalls;
    const error = await new Network(options as never).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe(message);
    expect(engine.apiCalls).toBe(calls);
  });
});
