import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, get as httpGet } from "node:http";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, EngineApiVersionError, GenericContainer, setEngine } from "throwaway";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { compareApiVersions, MAX_API_VERSION, MIN_API_VERSION, negotiateApiVersion } from "../../src/engine/api-version.js";

describe("negotiateApiVersion", () => {
  it("speaks the engine's own version, capped at the newest throwaway knows", () => {
    expect(negotiateApiVersion("1.41")).toBe("1.41");
    expect(negotiateApiVersion("1.52")).toBe(MAX_API_VERSION);
    expect(compareApiVersions("1.9", "1.41")).toBeLessThan(0);
    expect(compareApiVersions("1.41", MIN_API_VERSION)).toBe(0);
  });
});

/**
 * The real engine behind a proxy socket that records each request line, so the test sees which path each call went
 * to and that the engine served it.
 */
let dir: string;
let proxy: Server;
let proxyPath: string;
const requests: string[] = [];
const connections = new Set<import("node:net").Socket>();
const saved = process.env.THROWAWAY_API_VERSION;

/** The versions the engine accepts, as its `/version` says. */
let accepted: { oldest: string; newest: string };

beforeAll(async () => {
  accepted = await new Promise((resolve, reject) => {
    httpGet({ socketPath: "/var/run/docker.sock", path: "/version" }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () => {
        const version = JSON.parse(body) as { ApiVersion: string; MinAPIVersion: string };
        resolve({ oldest: version.MinAPIVersion, newest: version.ApiVersion });
      });
    }).on("error", reject);
  });
  dir = await mkdtemp(join(tmpdir(), "throwaway-api-version-"));
  proxyPath = join(dir, "engine.sock");
  proxy = createServer((client) => {
    const upstream = connect("/var/run/docker.sock");
    connections.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString("latin1").matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.1$/gm)) {
        requests.push(`${match[1]} ${match[2]!.split("?")[0]}`);
      }
    });
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve));
});

const engines: Engine[] = [];

afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
  setEngine(undefined);
  if (saved === undefined) delete process.env.THROWAWAY_API_VERSION;
  else process.env.THROWAWAY_API_VERSION = saved;
  requests.length = 0;
});

afterAll(async () => {
  for (const socket of connections) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** An engine on the proxy, as discovery leaves it: pinged once (which is when it learns the engine's version). */
async function proxiedEngine(): Promise<Engine> {
  const engine = new Engine({ kind: "unix", source: "test proxy", socketPath: proxyPath });
  await engine.ping();
  return engine;
}

/** Starts, execs into and stops a container (no network: the calls are what is looked at). */
async function roundTrip(engine: Engine): Promise<number> {
  setEngine(engine);
  engines.push(engine);
  const before = engine.apiCalls;
  const container = await new GenericContainer("busybox:latest")
    .withNetworkMode("none")
    .withCommand(["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
    .start();
  const startCalls = engine.apiCalls - before;
  try {
    expect((await container.exec(["echo", "hi"])).stdout).toBe("hi\n");
  } finally {
    await container.stop();
  }
  return startCalls;
}

describe("Engine API versions against the real engine", () => {
  it("negotiates from the first answer, without a call of its own, and sends every later call to that version's paths", async () => {
    const engine = await proxiedEngine();
    const engineVersion = (await engine.info()) && engine.apiVersion;
    expect(engineVersion).toMatch(/^1\.\d+$/);
    expect(requests[0]).toBe("GET /_ping");
    const startCalls = await roundTrip(engine);
    const versioned = requests.slice(1);
    expect(versioned.length).toBeGreaterThan(4);
    for (const request of versioned) expect(request).toMatch(new RegExp(`^\\S+ /v${engineVersion!.replace(".", "\\.")}/`));
    // The budget of a plain start stays what it was: negotiation cost no call.
    expect(startCalls).toBe(4);
  });

  it.each([
    // Docker 20.10 still serves 1.24 (Docker 1.12's); a newer engine's oldest is old enough.
    ["an old version", () => [accepted.oldest, "1.24"].sort(compareApiVersions).at(-1)!],
    ["the current version", () => negotiateApiVersion(accepted.newest)],
  ])("serves %s pinned with THROWAWAY_API_VERSION", async (_, pick) => {
    const version = pick();
    process.env.THROWAWAY_API_VERSION = version;
    const engine = await proxiedEngine();
    expect(engine.apiVersion).toBe(version);
    await roundTrip(engine);
    expect(requests.length).toBeGreaterThan(4);
    for (const request of requests) expect(request.split(" ")[1]).toMatch(new RegExp(`^/v${version.replace(".", "\\.")}/`));
  });

  it.each([
    ["too old", "1.5"],
    ["too new", "1.99"],
  ])("names both versions when the engine refuses a pinned version that is %s", async (_, version) => {
    process.env.THROWAWAY_API_VERSION = version;
    const engine = new Engine({ kind: "unix", source: "test proxy", socketPath: proxyPath });
    const error = await engine.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineApiVersionError);
    const versionError = error as EngineApiVersionError;
    expect(versionError.clientVersion).toBe(version);
    expect(versionError.engineVersion).toMatch(/^1\.\d+$/);
    expect(versionError.message).toContain(`refuses Engine API ${version}`);
    expect(versionError.message).toContain(versionError.engineVersion);
  });
});

describe("an engine older than throwaway supports", () => {
  it("fails with a typed error naming its version and the oldest supported", async () => {
    const oldDir = await mkdtemp(join(tmpdir(), "throwaway-old-engine-"));
    // A stand-in for an engine of 2017 (API 1.30): pure version logic, no container involved.
    const old = createHttpServer((_req, res) => res.writeHead(200, { "Api-Version": "1.30", "Content-Type": "text/plain" }).end("OK"));
    await new Promise<void>((resolve) => old.listen(join(oldDir, "engine.sock"), resolve));
    try {
      const engine = new Engine({ kind: "unix", source: "test", socketPath: join(oldDir, "engine.sock") });
      const error = await engine.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineApiVersionError);
      expect(error).toMatchObject({ engineVersion: "1.30", clientVersion: MIN_API_VERSION });
      expect((error as Error).message).toContain(`Engine API 1.30, older than ${MIN_API_VERSION}`);
      engine.close();
    } finally {
      await new Promise((resolve) => old.close(resolve));
      await rm(oldDir, { recursive: true, force: true });
    }
  });
});
