import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { callKind, RequestParser, startCountingProxy } from "../lib/proxy.mjs";

const run = promisify(execFile);

function parse(chunks) {
  const seen = [];
  const parser = new RequestParser((r) => seen.push(`${r.method} ${r.path}${r.upgrade ? " (upgrade)" : ""}`));
  for (const chunk of chunks) parser.push(Buffer.from(chunk, "latin1"));
  return seen;
}

describe("RequestParser", () => {
  // A body holding what looks like a request: only Content-Length tells it is not one.
  const body = "GET /trap HTTP/1.1\r\n\r\n";
  const create = `POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const ping = "HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n";

  it("counts pipelined requests and skips a Content-Length body, even one that looks like a request", () => {
    expect(parse([ping + create + ping])).toEqual(["HEAD /_ping", "POST /v1.41/containers/create", "HEAD /_ping"]);
  });

  it("finds the same requests when the bytes arrive one at a time", () => {
    expect(parse([...(ping + create + ping)])).toEqual(["HEAD /_ping", "POST /v1.41/containers/create", "HEAD /_ping"]);
  });

  it("skips chunked bodies (build contexts), chunk extensions and trailers included", () => {
    const build =
      "POST /build?t=x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5\r\nGET /\r\n" +
      "a;ext=1\r\n0123456789\r\n" +
      "0\r\nX-Trailer: 1\r\n\r\n";
    expect(parse([build + ping])).toEqual(["POST /build?t=x", "HEAD /_ping"]);
    expect(parse([...(build + ping)])).toEqual(["POST /build?t=x", "HEAD /_ping"]);
  });

  it("stops at a request that upgrades the connection: what follows is the hijacked stream", () => {
    const start = "POST /exec/abc/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}";
    expect(parse([start, "GET /not-a-request HTTP/1.1\r\n\r\n"])).toEqual(["POST /exec/abc/start (upgrade)"]);
  });
});

describe("callKind", () => {
  it.each([
    ["POST", "/v1.41/containers/create?name=x", "POST /containers/create"],
    ["GET", "/containers/json?all=1", "GET /containers/json"],
    ["GET", "/v1.41/containers/4f1c2a/json", "GET /containers/{id}/json"],
    ["POST", "/exec/abc/start", "POST /exec/{id}/start"],
    ["GET", "/images/library/busybox:latest/json", "GET /images/{ref}/json"],
    ["POST", "/images/create?fromImage=busybox", "POST /images/create"],
    ["DELETE", "/v1.41/images/sha256:abc", "DELETE /images/{ref}"],
    ["HEAD", "/_ping", "HEAD /_ping"],
  ])("%s %s is %s", (method, path, kind) => {
    expect(callKind(method, path)).toBe(kind);
  });
});

describe("startCountingProxy against the real engine", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-proxy-test-"));
  const label = `throwaway-bench.test=${process.pid}`;
  afterAll(async () => {
    const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=${label}`]);
    const left = stdout.trim().split("\n").filter(Boolean);
    if (left.length) await run("docker", ["rm", "-f", ...left]);
    rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it("forwards the docker CLI's traffic unchanged and counts each call, across a hijacked exec", async () => {
    const proxy = await startCountingProxy(join(dir, "engine.sock"), "/var/run/docker.sock");
    try {
      const env = { ...process.env, DOCKER_HOST: `unix://${proxy.socketPath}` };
      const id = (await run("docker", ["run", "-d", "--label", label, "busybox:latest", "sleep", "60"], { env })).stdout.trim();
      let before;
      try {
        const { stdout: out } = await run("docker", ["exec", id, "echo", "through the proxy"], { env });
        expect(out).toBe("through the proxy\n");
      } finally {
        before = proxy.mark();
        await run("docker", ["rm", "-f", id], { env });
      }
      expect(proxy.between(before, proxy.mark())).toEqual(["HEAD /_ping", "DELETE /containers/{id}"]);
      const kinds = proxy.between(0, before);
      expect(kinds).toContain("POST /containers/create");
      expect(kinds).toContain("POST /containers/{id}/start");
      expect(kinds).toContain("POST /containers/{id}/exec");
      expect(kinds).toContain("POST /exec/{id}/start");
    } finally {
      await proxy.close();
    }
  });
});
