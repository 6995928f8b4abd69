import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { parseClientMessage, readLines } from "../../src/reaper/protocol.js";

describe("readLines", () => {
  it("delivers complete lines however the bytes are split, and nothing of a partial line", () => {
    const socket = new Socket();
    const lines: string[] = [];
    readLines(socket, (line) => lines.push(line));
    for (const chunk of ['{"pid":1', "2}\nre", "ady\n\n", "partial"]) socket.emit("data", chunk);
    expect(lines).toEqual(['{"pid":12}', "ready"]);
    socket.destroy();
  });
});

describe("parseClientMessage", () => {
  it("keeps a pid and well-formed endpoints", () => {
    const unix = { kind: "unix", source: "default socket", socketPath: "/var/run/docker.sock" };
    const tcp = { kind: "tcp", source: "DOCKER_HOST", host: "127.0.0.1", port: 2375 };
    expect(parseClientMessage(JSON.stringify({ pid: 42, endpoints: [unix, { kind: "ftp" }, tcp] }))).toEqual({
      pid: 42,
      endpoints: [unix, tcp],
    });
  });

  it("keeps an ssh:// endpoint whose port is left to the ssh config", () => {
    const ssh = { kind: "ssh", source: "DOCKER_HOST", host: "builder" };
    const sshWithPort = { kind: "ssh", source: "DOCKER_HOST", host: "builder", port: 2222, username: "ci" };
    expect(parseClientMessage(JSON.stringify({ endpoints: [ssh, sshWithPort, { kind: "ssh", host: "x", port: "22" }] }))).toEqual({
      endpoints: [ssh, sshWithPort],
    });
  });

  it("ignores what is not a message (a probe's noise, another program on the socket)", () => {
    expect(parseClientMessage("GET / HTTP/1.1")).toEqual({});
    expect(parseClientMessage('{"pid":-1}')).toEqual({});
    expect(parseClientMessage("null")).toEqual({});
  });
});
