import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeTarget, fakeContext, waitOnFake } from "../../test/wait/fake-target.js";
import { ContainerNotReadyError, InvalidOptionError, WaitTimeoutError } from "../errors.js";
import { HttpWaitStrategy } from "./http.js";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: Server[] = [];
let tls: { key: Buffer; cert: Buffer };
let certDir: string;

beforeAll(() => {
  // A throwaway self-signed certificate, as test images ship them.
  certDir = mkdtempSync(join(tmpdir(), "throwaway-http-wait-"));
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "cert.pem"],
    { cwd: certDir, stdio: "ignore" },
  );
  tls = { key: readFileSync(join(certDir, "key.pem")), cert: readFileSync(join(certDir, "cert.pem")) };
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** A real server on 127.0.0.1 standing in for the mapped port; the handler sees the request count. */
async function serve(handler: Handler, secure = false): Promise<{ target: FakeTarget; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    handler(req, res, requests.length);
  };
  const server = secure ? createTlsServer(tls, listener) : createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { target: new FakeTarget({ ports: { 8080: port } }), requests };
}

function answer(status: number, body = ""): Handler {
  return (_req, res) => res.writeHead(status, { "content-type": "text/plain" }).end(body);
}

function waitFor(strategy: HttpWaitStrategy, target: FakeTarget, timeoutMs = 300) {
  return waitOnFake(strategy, target, timeoutMs);
}

describe("Wait.forHttp", () => {
  it("describes itself", () => {
    expect(new HttpWaitStrategy("/health", 8080).describe()).toBe("http GET /health on 8080 -> 2xx");
    expect(new HttpWaitStrategy("/health", 8080).forStatusCode(200).describe()).toBe("http GET /health on 8080 -> 200");
    expect(
      new HttpWaitStrategy("/", 8443)
        .usingTls()
        .allowInsecure()
        .withMethod("head")
        .forStatusCode(200)
        .forStatusCode(204)
        .forStatusCodeMatching((s) => s === 401)
        .forResponsePredicate(() => true)
        .describe(),
    ).toBe("https HEAD / on 8443 -> 200|204|matching status with accepted body (any certificate)");
  });

  it("rejects bad options with the option's name", () => {
    expect(() => new HttpWaitStrategy("health", 8080)).toThrow(
      'Expected `Wait.forHttp(path)` to be a path starting with `/`, got `"health"` (string): e.g. `/health`',
    );
    expect(() => new HttpWaitStrategy("/", 0)).toThrow(
      "Expected `Wait.forHttp(path, port)` to be a container port 1-65535, got `0` (number)",
    );
    expect(() => new HttpWaitStrategy("/", 80).forStatusCode(99)).toThrow(
      "Expected `forStatusCode(statusCode)` to be an HTTP status code 100-599, got `99` (number)",
    );
    expect(() => new HttpWaitStrategy("/", 80).withReadTimeout(-1)).toThrow(
      "Expected `withReadTimeout(ms)` to be a duration in milliseconds from 1 to 2147483647, got `-1` (number): durations are whole milliseconds, e.g. 30000 for 30 s",
    );
    expect(() => new HttpWaitStrategy("/", 80).withBasicCredentials("a:b", "c")).toThrow(
      'Expected `withBasicCredentials(username)` to be a string without `:`, got `"a:b"` (string)',
    );
  });

  it("retries until the status is 2xx", async () => {
    const { target, requests } = await serve((req, res, n) => (n < 3 ? answer(503, "warming up")(req, res, n) : answer(200)(req, res, n)));
    const { context, recorded } = fakeContext();
    await new HttpWaitStrategy("/health?deep=1", 8080).waitUntilReady(target, context);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /health?deep=1", "GET /health?deep=1", "GET /health?deep=1"]);
    expect(recorded.attempts).toBe(3);
    expect(recorded.lastError).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/health\?deep=1 answered 503 Service Unavailable: "warming up"$/);
  });

  it("accepts exactly the configured status codes and predicates", async () => {
    const { target } = await serve(answer(404));
    await new HttpWaitStrategy("/missing", 8080).forStatusCode(404).waitUntilReady(target, fakeContext().context);
    await new HttpWaitStrategy("/missing", 8080).forStatusCodeMatching((s) => s >= 400).waitUntilReady(target, fakeContext().context);
    const error = (await waitFor(new HttpWaitStrategy("/missing", 8080).forStatusCode(200), target).catch(
      (e: unknown) => e,
    )) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.lastError).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/missing answered 404 Not Found$/);
  });

  it("checks the body with the response predicate", async () => {
    const { target } = await serve((req, res, n) => answer(200, n < 2 ? '{"status":"STARTING"}' : '{"status":"UP"}')(req, res, n));
    const { context } = fakeContext();
    await new HttpWaitStrategy("/actuator/health", 8080)
      .forResponsePredicate((body) => JSON.parse(body).status === "UP")
      .waitUntilReady(target, context);

    const { target: never } = await serve(answer(200, '{"status":"DOWN"}'));
    const error = (await waitFor(
      new HttpWaitStrategy("/", 8080).forResponsePredicate((body) => body.includes("UP")),
      never,
    ).catch((e: unknown) => e)) as WaitTimeoutError;
    expect(error.lastError).toMatch(/answered 200 OK but the response predicate rejected "\{\\"status\\":\\"DOWN\\"\}"$/);
  });

  it("sends the method, headers and basic credentials", async () => {
    const { target, requests } = await serve(answer(204));
    await new HttpWaitStrategy("/ping", 8080)
      .withMethod("post")
      .withHeaders({ "X-Probe": "throwaway" })
      .withBasicCredentials("admin", "s3cret")
      .waitUntilReady(target, fakeContext().context);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.headers["x-probe"]).toBe("throwaway");
    expect(requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from("admin:s3cret").toString("base64")}`);
  });

  it("gives up on a request after the read timeout and tries again", async () => {
    const { target, requests } = await serve((req, res, n) => {
      if (n > 1) answer(200)(req, res, n); // the first request hangs
    });
    const { context, recorded } = fakeContext();
    let lastErrorSeen: string | undefined;
    const strategy = new HttpWaitStrategy("/", 8080).withReadTimeout(50);
    const original = context.lastError;
    await strategy.waitUntilReady(target, {
      ...context,
      lastError: (reason) => {
        lastErrorSeen = reason;
        original(reason);
      },
    });
    expect(requests).toHaveLength(2);
    expect(lastErrorSeen).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/ failed: no complete response within 50 ms$/);
    expect(recorded.attempts).toBe(2);
  });

  it("fails at once on a self-signed certificate unless allowInsecure", async () => {
    const { target } = await serve(answer(200, "secure"), true);
    const error = (await waitFor(new HttpWaitStrategy("/", 8080).usingTls(), target, 60_000).catch(
      (e: unknown) => e,
    )) as ContainerNotReadyError;
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toMatch(
      /^Container 3f2a9c1b7d10 can never become ready for https GET \/ on 8080 -> 2xx: GET https:\/\/127\.0\.0\.1:\d+\/ failed: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): call allowInsecure\(\) to accept the container's certificate$/,
    );
    await new HttpWaitStrategy("/", 8080).usingTls().allowInsecure().waitUntilReady(target, fakeContext().context);
  });

  it("fails at once when TLS is used on a plain HTTP port", async () => {
    const { target } = await serve(answer(200));
    const error = (await waitFor(new HttpWaitStrategy("/", 8080).usingTls(), target, 60_000).catch(
      (e: unknown) => e,
    )) as ContainerNotReadyError;
    expect(error).toBeInstanceOf(ContainerNotReadyError);
    expect(error.shortMessage).toMatch(/: the port speaks plain HTTP, not TLS; drop usingTls\(\)$/);
  });

  it("fails at once for a port that is not exposed", async () => {
    const { target } = await serve(answer(200));
    const error = await new HttpWaitStrategy("/", 9090).waitUntilReady(target, fakeContext().context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).shortMessage).toBe(
      "Expected `Wait.forHttp(path, 9090)` to be an exposed TCP port (exposed: 8080/tcp), got `9090` (number): add withExposedPorts(9090) to the container",
    );
  });

  it("stops at once when aborted mid-request", async () => {
    const { target, requests } = await serve(() => {}); // never answers
    const { context, abort } = fakeContext();
    const waiting = new HttpWaitStrategy("/", 8080).withReadTimeout(60_000).waitUntilReady(target, context);
    while (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const reason = new Error("deadline");
    abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
