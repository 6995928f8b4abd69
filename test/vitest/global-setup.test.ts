import { randomBytes } from "node:crypto";
import { GenericContainer, getEngine, getSessionId, InvalidOptionError, LABELS } from "throwaway";
import { type ContainerInfo, defineGlobalSetup, startGlobal } from "throwaway/vitest";
import { describe, expect, it } from "vitest";

// Other files run at the same time in the same session: this file counts only the containers it labelled.
const FILE_LABEL = "test.throwaway.file";
const FILE_ID = `global-setup-${randomBytes(4).toString("hex")}`;
const HTTPD = ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www"];

const web = () =>
  new GenericContainer("busybox:latest")
    .withCommand(HTTPD)
    .withExposedPorts(8080)
    .withLabels({ [FILE_LABEL]: FILE_ID });

async function ours(): Promise<string[]> {
  const engine = await getEngine();
  const found = await engine.listContainers({ label: [`${FILE_LABEL}=${FILE_ID}`] });
  return found.map((c) => c.Id);
}

/** What vitest's `TestProject` does with `provide`, recorded. */
function fakeProject() {
  const provided: Record<string, unknown> = {};
  return { provided, project: { provide: (key: string, value: unknown) => void (provided[key] = value) } as never };
}

describe("startGlobal", () => {
  it("starts every container, provides plain connection info under its name, stops them all once", async () => {
    const { provided, project } = fakeProject();
    const global = await startGlobal(project, {
      web,
      custom: { container: web, provide: (c) => ({ url: `http://${c.getHost()}:${c.getMappedPort(8080)}/index.html` }) },
    });
    const container = global.containers.web;
    const port = container.getMappedPort(8080);
    const expected: ContainerInfo = {
      id: container.getId(),
      name: container.getName(),
      image: "busybox:latest",
      host: container.getHost(),
      ports: { "8080/tcp": port },
      port,
    };
    expect(provided).toEqual({ web: expected, custom: { url: expect.stringMatching(/^http:\/\/.+:\d+\/index\.html$/) } });
    expect(global.provided).toEqual(provided);
    // Plain data, as vitest needs to send it to workers.
    expect(structuredClone(provided)).toEqual(provided);
    const custom = provided.custom as { url: string };
    expect((await (await fetch(custom.url)).text()).trim()).toBe("hi");
    expect(await ours()).toHaveLength(2);
    // The main process holds the run's session from here on; workers forked later inherit it.
    expect(process.env.THROWAWAY_SESSION_ID).toBe(getSessionId());
    expect(container.getLabels()[LABELS.session]).toBe(getSessionId());

    await Promise.all([global.stop(), global.stop()]);
    await global.stop();
    expect(await ours()).toEqual([]);
  });

  it("removes the containers that started when another one fails, and throws that one's error", async () => {
    const { provided, project } = fakeProject();
    const start = startGlobal(project, { ok: web, bad: () => web().withExposedPorts(70000) });
    await expect(start).rejects.toThrow(InvalidOptionError);
    await expect(start).rejects.toThrow("Expected `withExposedPorts` to be");
    expect(provided).toEqual({});
    expect(await ours()).toEqual([]);
  });

  it("names every failed container when several fail", async () => {
    const { project } = fakeProject();
    const start = startGlobal(project, {
      ok: web,
      bad: () => web().withExposedPorts(70000),
      worse: () => web().withExposedPorts(-1),
    });
    await expect(start).rejects.toThrow(AggregateError);
    await expect(start).rejects.toThrow("2 of 3 global containers failed to start: bad, worse");
    expect(await ours()).toEqual([]);
  });

  it("refuses what vitest could not send to workers, and removes the container", async () => {
    const { project } = fakeProject();
    const start = startGlobal(project, { web: { container: web, provide: (c) => ({ container: c, stop: () => c.stop() }) } });
    await expect(start).rejects.toThrow(
      'Expected `provide of global container "web"` to be a value vitest can send to workers (strings, numbers, plain objects, arrays), got',
    );
    await expect(start).rejects.toThrow(": return plain data, such as `{ uri: container.getConnectionUri() }`");
    expect(await ours()).toEqual([]);
  });
});

describe("defineGlobalSetup", () => {
  it("is a globalSetup function: starts on setup, returns the teardown", async () => {
    const { provided, project } = fakeProject();
    const setup = defineGlobalSetup({ web });
    expect(Object.keys(setup.definitions)).toEqual(["web"]);
    const teardown = await setup(project);
    expect(Object.keys(provided)).toEqual(["web"]);
    expect(await ours()).toHaveLength(1);
    await teardown();
    expect(await ours()).toEqual([]);
  });
});
