import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { type DockerodeClient, DockerodeTransport, fromModemError } from "../../src/engine/dockerode-transport.js";
import { Engine } from "../../src/engine/engine.js";
import { engineMessage, engineStatus } from "../../src/engine/engine-errors.js";
import { EngineHttpError, EngineTimeoutError } from "../../src/errors.js";

const socketPath = "/var/run/docker.sock";
const endpoint = { kind: "unix", source: "test", socketPath } as const;

describe("a dockerode client passed in code", () => {
  it("makes the calls, counted, and a refusal is an EngineHttpError with the engine's status and own words", async () => {
    const engine = new Engine(endpoint, new Docker({ socketPath }));
    await engine.ping();
    const missing = `throwaway-no-such-container-${process.pid}`;
    const error = await engine.inspectContainer(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineHttpError);
    expect((error as EngineHttpError).status).toBe(404);
    expect(engineStatus(error)).toBe(404);
    // docker-modem's "(HTTP code 404) no such container - " is not part of what the engine said.
    expect(engineMessage(error)).toBe(`No such container: ${missing}`);
    expect((error as EngineHttpError).call).toBe(`GET /containers/${missing}/json`);
    expect(await engine.removeImage(`throwaway-no-such-image-${process.pid}:never`)).toEqual({ outcome: "absent" });
    expect(engine.apiCalls).toBe(3);
  });

  it("lists through the client what the engine has (a JSON answer, parsed)", async () => {
    const engine = new Engine(endpoint, new Docker({ socketPath }));
    const own = await engine.listContainers({ label: [`throwaway.test.none=${process.pid}`] });
    expect(own).toEqual([]);
  });
});

describe("DockerodeTransport", () => {
  const call = { method: "POST", path: "/containers/x/wait", statusCodes: { 200: true }, isStream: false, hijack: false } as const;

  it("turns docker-modem's failure into an EngineHttpError from its fields, and leaves other errors alone", () => {
    const modem = Object.assign(new Error("(HTTP code 409) unexpected - Conflict. The container name is in use"), {
      statusCode: 409,
      reason: undefined,
      json: { message: "Conflict. The container name is in use " },
    });
    const converted = fromModemError(modem, "POST /containers/create") as EngineHttpError;
    expect(converted).toBeInstanceOf(EngineHttpError);
    expect(converted.status).toBe(409);
    expect(converted.engineMessage).toBe("Conflict. The container name is in use");
    expect(converted.cause).toBe(modem);
    const text = fromModemError(Object.assign(new Error("x"), { statusCode: 500, json: "plain text body\n" }), "GET /x");
    expect((text as EngineHttpError).engineMessage).toBe("plain text body");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(fromModemError(refused, "GET /x")).toBe(refused);
  });

  it("bounds a call by its timeoutMs and fails it with an EngineTimeoutError", async () => {
    // A modem that never answers until the call is aborted, as a hung engine would.
    const client: DockerodeClient = {
      modem: {
        dial(options, callback) {
          const signal = (options as { abortSignal?: AbortSignal }).abortSignal;
          signal?.addEventListener("abort", () => callback(Object.assign(new Error("aborted"), { name: "AbortError" }), undefined));
        },
      },
    };
    const transport = new DockerodeTransport(client, "unix:///hung.sock");
    const error = await transport.request({ ...call, timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineTimeoutError);
    expect((error as EngineTimeoutError).timeoutMs).toBe(20);
    expect((error as EngineTimeoutError).call).toBe("POST /containers/x/wait");
  });
});
