// The parsers behind a service's keys: every ports form, volumes, durations, sizes and command strings.
import { describe, expect, it } from "vitest";
import { ComposeFileError, ComposeUnsupportedError } from "../../src/compose/errors.js";
import { parseDuration, parseMounts, parsePorts, parseSize, splitShellWords } from "../../src/compose/service.js";

const locate = (path: (string | number)[]) => ({ file: "compose.yaml", keyPath: path.join("."), line: 7 });

describe("ports", () => {
  it("reads every short and long form", () => {
    expect(
      parsePorts(
        [
          80,
          "8080",
          "9000:90",
          "127.0.0.1:9001:91/udp",
          "0.0.0.0::92",
          "7000-7001:70-71",
          { target: 93, published: "9393", protocol: "udp" },
          { target: 94 },
        ],
        locate,
      ),
    ).toEqual([
      { container: 80, protocol: "tcp", host: undefined },
      { container: 8080, protocol: "tcp", host: undefined },
      { container: 90, protocol: "tcp", host: 9000 },
      { container: 91, protocol: "udp", host: 9001 },
      { container: 92, protocol: "tcp", host: undefined },
      { container: 70, protocol: "tcp", host: 7000 },
      { container: 71, protocol: "tcp", host: 7001 },
      { container: 93, protocol: "udp", host: 9393 },
      { container: 94, protocol: "tcp", host: undefined },
    ]);
  });

  it("refuses what it cannot honour, naming the entry", () => {
    expect(() => parsePorts(["80:99999"], locate)).toThrow(ComposeFileError);
    expect(() => parsePorts(["80/sctp"], locate)).toThrow(/tcp or udp/);
    expect(() => parsePorts(["8000-8010:80"], locate)).toThrow(ComposeUnsupportedError);
    expect(() => parsePorts(["10.0.0.5:80:80"], locate)).toThrow(ComposeUnsupportedError);
  });
});

describe("volumes", () => {
  it("tells named, anonymous and bind mounts apart, read-only included", () => {
    expect(
      parseMounts(
        [
          "data:/data",
          "/cache",
          "/srv/conf:/conf:ro",
          { type: "volume", source: "data", target: "/more", read_only: true },
          { type: "tmpfs", target: "/t", tmpfs: { size: "1m" } },
        ],
        locate,
        new Set(["data"]),
      ),
    ).toEqual([
      { type: "volume", source: "data", target: "/data", readOnly: false },
      { type: "volume", source: undefined, target: "/cache", readOnly: false },
      { type: "bind", source: "/srv/conf", target: "/conf", readOnly: true },
      { type: "volume", source: "data", target: "/more", readOnly: true },
      { type: "tmpfs", target: "/t", options: "size=1048576" },
    ]);
  });

  it("refuses a named volume the file does not declare", () => {
    expect(() => parseMounts(["undeclared:/data"], locate, new Set())).toThrow(/not declared in the top-level `volumes:`/);
  });
});

describe("durations, sizes and commands", () => {
  it("reads Go durations in ms", () => {
    expect([parseDuration("1m30s"), parseDuration("500ms"), parseDuration("1.5s"), parseDuration("2h"), parseDuration("0")]).toEqual([
      90_000, 500, 1500, 7_200_000, 0,
    ]);
    expect(parseDuration("10")).toBeUndefined();
    expect(parseDuration("5 s")).toBeUndefined();
  });

  it("reads sizes in bytes", () => {
    expect([parseSize("64m"), parseSize("1g"), parseSize("512kb"), parseSize("1GiB"), parseSize(1024)]).toEqual([
      64 * 1024 ** 2,
      1024 ** 3,
      512 * 1024,
      1024 ** 3,
      1024,
    ]);
    expect(parseSize("lots")).toBeUndefined();
  });

  it("splits command strings into words as a shell would, without expanding", () => {
    expect(splitShellWords(`sh -c 'echo "$HOME" done' "a b" c\\ d`)).toEqual(["sh", "-c", 'echo "$HOME" done', "a b", "c d"]);
    expect(splitShellWords("echo 'unclosed")).toBeUndefined();
  });
});
