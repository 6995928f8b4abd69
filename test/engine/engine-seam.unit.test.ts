import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { deferredTransport, type Transport, type TransportRequest } from "../../src/engine/transport.js";
import { EngineHttpError } from "../../src/errors.js";

const endpoint = { kind: "unix", source: "test", socketPath: "/nonexistent/engine.sock" } as const;

/** A transport that records each request and answers with `answer` (or throws it, when it is an error). */
function fakeTransport(answer: (request: TransportRequest) => unknown): Transport & { requests: TransportRequest[]; closed: number } {
  const fake = {
    requests: [] as TransportRequest[],
    closed: 0,
    request<T>(request: TransportRequest): Promise<T> {
      fake.requests.push(request);
      const value = answer(request);
      return value instanceof Error ? Promise.reject(value) : Promise.resolve(value as T);
    },
    close() {
      fake.closed++;
    },
  };
  return fake;
}

describe("Engine over a Transport", () => {
  it("makes every call through the one transport it holds, counted, with the call's status codes", async () => {
    const transport = fakeTransport((request) => (request.path === "/containers/create" ? { Id: "c0ffee" } : null));
    const engine = new Engine(endpoint, undefined, transport);
    expect(await engine.createContainer({ Image: "busybox" }, { name: "x" })).toBe("c0ffee");
    await engine.removeNetwork("n1");
    expect(engine.apiCalls).toBe(2);
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /containers/create", "DELETE /networks/n1"]);
    expect(transport.requests[0]?.query).toEqual({ name: "x" });
    expect(transport.requests[0]?.body).toEqual({ Image: "busybox" });
    expect(transport.requests[1]?.statusCodes).toEqual({ 204: true, 404: true });
    engine.close();
    expect(transport.closed).toBe(1);
  });

  it("branches on the transport's typed refusal: a 404 on inspect is an absent image, a 409 on removal a kept one", async () => {
    const transport = fakeTransport((request) =>
      request.method === "GET"
        ? new EngineHttpError({ status: 404, call: "GET", engineMessage: "No such image: nope" })
        : new EngineHttpError({ status: 409, call: "DELETE", engineMessage: "image is being used by running container 1a2b" }),
    );
    const engine = new Engine(endpoint, undefined, transport);
    expect(await engine.inspectImage("nope")).toBeUndefined();
    expect(await engine.removeImage("busybox")).toEqual({
      outcome: "kept",
      statusCode: 409,
      reason: "image is being used by running container 1a2b",
    });
  });

  it("a deferred transport waits for the one that loads, and closes it once loaded", async () => {
    const inner = fakeTransport(() => "pong");
    let loaded!: (transport: Transport) => void;
    const transport = deferredTransport(new Promise<Transport>((resolve) => (loaded = resolve)));
    const answer = transport.request<string>({ method: "GET", path: "/_ping", statusCodes: { 200: true }, isStream: false, hijack: false });
    transport.close();
    loaded(inner);
    expect(await answer).toBe("pong");
    expect(inner.requests).toHaveLength(1);
    expect(inner.closed).toBe(1);
  });
});

describe("Engine methods that return a Promise", () => {
  // Methods that return no Promise, and private helpers (`versionRefusal` rethrows the error it is handed).
  const synchronous = new Set([
    "constructor",
    "describe",
    "isLocal",
    "close",
    "startError",
    "requestError",
    "engineTooOld",
    "noteApiVersion",
    "versionRefusal",
  ]);
  const methods = Object.getOwnPropertyNames(Engine.prototype).filter(
    (name) => !synchronous.has(name) && typeof Object.getOwnPropertyDescriptor(Engine.prototype, name)?.value === "function",
  );

  it("covers the engine's endpoints", () => {
    expect(methods).toEqual(expect.arrayContaining(["ping", "createContainer", "listImages", "tailLogs", "exec", "getArchive"]));
  });

  it.each(methods)("%s never throws synchronously: a failure while preparing the call rejects its promise", async (name) => {
    // A transport that throws where it should reject, and arguments that cannot be encoded (cyclic), a number where
    // a string is expected: whatever fails before the call leaves must still come back as a rejection.
    const transport: Transport = {
      request() {
        throw new Error("transport threw");
      },
      close() {},
    };
    const engine = new Engine(endpoint, undefined, transport);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const method = (engine as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    let result: unknown;
    expect(() => {
      result = method.call(engine, cyclic, cyclic, cyclic, cyclic);
    }).not.toThrow();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBeInstanceOf(Error);
  });
});
