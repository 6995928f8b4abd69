import { describe, expect, it } from "vitest";
import { engineRunArgs, parseArgs, selectedWorkloadIds } from "../lib/args.mjs";
import { engineEnvironment, engineNotes, engineProfile, engineSideSettings, parseEngineLines } from "../lib/engines.mjs";
import { engineSection, takenUnderLoad, withEngineSections } from "../lib/readme.mjs";
import { failedSamples, tableLines } from "../lib/report.mjs";
import { WORKLOADS } from "../lib/workloads.mjs";

const TLS_LINES = "DOCKER_HOST=tcp://10.213.0.2:2376\nDOCKER_TLS_VERIFY=1\nDOCKER_CERT_PATH=/etc/throwaway/remote/client\n";
const LOCAL_SETTINGS = {
  throwaway: { THROWAWAY_REAPER: "off" },
  testcontainers: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
  cli: {},
};

describe("parseArgs", () => {
  it("takes --engine and --engines, alone or together, once each", () => {
    expect(parseArgs(["--engine", "podman"]).engines).toEqual(["podman"]);
    expect(parseArgs(["--engines", "podman,remote-tls", "--engine", "podman", "--quick"])).toMatchObject({
      engines: ["podman", "remote-tls"],
      quick: true,
    });
    expect(parseArgs([]).engines).toBeUndefined();
  });

  it("refuses an unknown engine or a missing name, naming the known ones", () => {
    expect(() => parseArgs(["--engine", "kubernetes"])).toThrow(
      "--engine: no engine kubernetes (known: podman, podman-rootless, docker-rootless, remote-tls, remote-ssh)",
    );
    expect(() => parseArgs(["--engine"])).toThrow("--engine takes an engine name");
    expect(() => parseArgs(["--engines", ","])).toThrow("--engine takes an engine name");
  });

  it("takes --docker-host for exactly one engine", () => {
    expect(parseArgs(["--engine", "podman", "--docker-host", "unix:///run/x.sock"]).dockerHost).toBe("unix:///run/x.sock");
    expect(() => parseArgs(["--docker-host", "unix:///run/x.sock"])).toThrow("give exactly one --engine with it");
    expect(() => parseArgs(["--engines", "podman,remote-tls", "--docker-host", "unix:///x"])).toThrow("exactly one --engine");
    expect(() => parseArgs(["--engine", "podman", "--docker-host", "/run/x.sock"])).toThrow(
      '--docker-host takes a unix://, tcp:// or ssh:// URL, got "/run/x.sock"',
    );
  });

  it("keeps the local run's options and errors as they were", () => {
    expect(parseArgs(["--only", "busybox,mysql", "--samples", "3"])).toMatchObject({ only: ["busybox", "mysql"], samples: 3 });
    expect(() => parseArgs(["--samples", "0"])).toThrow("--samples takes a whole number >= 1, got 0");
    expect(() => parseArgs(["--only", "nope"])).toThrow("--only: no workload nope");
    expect(() => parseArgs(["--bogus"])).toThrow("unknown option --bogus");
  });
});

describe("selectedWorkloadIds and engineRunArgs", () => {
  it("runs every workload locally, issue 14's subset on an engine, and --only's choice either way", () => {
    expect(selectedWorkloadIds(parseArgs([]))).toEqual(WORKLOADS.map((w) => w.id));
    expect(selectedWorkloadIds(parseArgs(["--engine", "podman"]))).toEqual(["busybox", "mysql", "readiness-port", "api-calls"]);
    expect(selectedWorkloadIds(parseArgs(["--engine", "podman", "--only", "readiness-log,busybox"]))).toEqual(["busybox", "readiness-log"]);
  });

  it("passes one engine and the sample options on to each engine's own run", () => {
    const args = parseArgs(["--engines", "podman,remote-tls", "--quick", "--only", "busybox", "--samples", "2"]);
    expect(engineRunArgs(args, "remote-tls")).toEqual(["--engine", "remote-tls", "--quick", "--only", "busybox", "--samples", "2"]);
    expect(engineRunArgs(parseArgs(["--engines", "podman"]), "podman")).toEqual(["--engine", "podman"]);
  });
});

describe("parseEngineLines", () => {
  it("reads the KEY=VALUE lines, unquoting values and ignoring anything else", () => {
    expect(parseEngineLines(`throwaway-engine: ready\n${TLS_LINES}`)).toEqual({
      DOCKER_HOST: "tcp://10.213.0.2:2376",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: "/etc/throwaway/remote/client",
    });
    expect(parseEngineLines("export DOCKER_HOST='unix:///run/podman/podman.sock'\n")).toEqual({
      DOCKER_HOST: "unix:///run/podman/podman.sock",
    });
  });

  it("fails when no DOCKER_HOST was printed, quoting what was", () => {
    expect(() => parseEngineLines("something went wrong\n")).toThrow(
      "the engine script printed no DOCKER_HOST line:\nsomething went wrong",
    );
  });
});

describe("engineProfile and the sides' settings", () => {
  it("reaches a unix-socket engine on 127.0.0.1 and counts it on the proxy", () => {
    const p = engineProfile("podman", { DOCKER_HOST: "unix:///run/podman/podman.sock" });
    expect(p).toMatchObject({ local: true, tls: false, address: "127.0.0.1", skipSides: {}, apiSkip: undefined });
    expect(engineSideSettings(p, LOCAL_SETTINGS)).toEqual(LOCAL_SETTINGS);
  });

  it("reaches a TLS engine at its address, without the peer's localhost override", () => {
    const p = engineProfile("remote-tls", parseEngineLines(TLS_LINES));
    expect(p).toMatchObject({ local: false, tls: true, address: "10.213.0.2", skipSides: {} });
    expect(p.apiCounts).toContain("from throwaway's own counter only");
    expect(p.apiSkip).toContain("remote-tls is reached over TLS");
    const settings = engineSideSettings(p, LOCAL_SETTINGS);
    expect(settings.testcontainers).toEqual({ TESTCONTAINERS_RYUK_DISABLED: "true" });
    expect(LOCAL_SETTINGS.testcontainers.TESTCONTAINERS_HOST_OVERRIDE).toBe("localhost");
    expect(engineNotes(p).join("\n")).toContain("DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=/etc/throwaway/remote/client");
  });

  it("skips testcontainers on an ssh engine, saying why", () => {
    const p = engineProfile("remote-ssh", { DOCKER_HOST: "ssh://throwaway-remote@10.213.0.2" });
    expect(p.address).toBe("10.213.0.2");
    expect(p.skipSides.testcontainers).toContain("testcontainers 12 cannot use an ssh:// engine");
    expect(p.skipSides.throwaway).toBeUndefined();
  });

  it("refuses a scheme it does not know", () => {
    expect(() => engineProfile("x", { DOCKER_HOST: "npipe:////./pipe/docker_engine" })).toThrow("has a scheme the bench does not know");
  });

  it("replaces the caller's engine variables with the engine's own lines", () => {
    const env = engineEnvironment(
      { PATH: "/bin", DOCKER_HOST: "tcp://elsewhere:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/x", DOCKER_CONTEXT: "c" },
      { DOCKER_HOST: "unix:///run/podman/podman.sock" },
    );
    expect(env).toEqual({ PATH: "/bin", DOCKER_HOST: "unix:///run/podman/podman.sock" });
  });
});

/** An engine run's results: the port readiness workload, one failed CLI sample. */
function engineResults(name, overrides = {}) {
  const sample = (variant, round, latency) => ({ round, variant, warmup: false, ok: true, values: { latency }, info: {} });
  return {
    runId: `run-${name}`,
    mode: "full",
    partial: false,
    startedAt: "2026-12-04T18:00:00.000Z",
    finishedAt: "2026-12-04T18:05:00.000Z",
    machine: {
      cores: 2,
      loadAverageAtStart: [12.5, 10, 8],
      loadAverageAtEnd: [1.5, 2, 3],
      docker: { server: "4.3.1", api: "1.41", client: "28.2.2" },
    },
    versions: { node: "v22", throwawayCommit: "abc", testcontainers: "12.2.0" },
    engine: { name, dockerHost: "unix:///run/podman/podman.sock", tls: false },
    settings: {
      sides: LOCAL_SETTINGS,
      removedFromEnvironment: "x",
      pullPolicy: "never",
      builder: "classic",
      cliPollIntervalMs: 2,
      peerNotes: [],
      engineNotes: ["All three sides on podman."],
    },
    workloads: [
      {
        id: "readiness-port",
        variants: WORKLOADS.find((w) => w.id === "readiness-port").variants,
        skipped: {},
        samples: [
          sample("throwaway", 1, 30),
          sample("testcontainers", 1, 200),
          sample("cli", 1, 5),
          { round: 2, variant: "cli", warmup: false, ok: false, error: "docker run failed: boom\n  at x" },
        ],
      },
    ],
    ...overrides,
  };
}

describe("the readiness lag target", () => {
  it("judges throwaway's port wait by its difference from the CLI's loop", () => {
    const [line] = tableLines(engineResults("podman"));
    expect(line.targetResults).toEqual([{ text: "within 20 ms of the CLI's loop", measured: "+25.0 ms", met: false }]);
    const close = engineResults("podman");
    close.workloads[0].samples[0].values.latency = 12;
    expect(tableLines(close)[0].targetResults[0]).toEqual({ text: "within 20 ms of the CLI's loop", measured: "+7.0 ms", met: true });
  });
});

describe("failedSamples", () => {
  it("lists each variant's failures with the first line of the first error", () => {
    expect(failedSamples(engineResults("podman"))).toEqual(["readiness-port / cli: 1 of 2 samples failed: docker run failed: boom"]);
  });
});

describe("engine sections of the README", () => {
  const README = [
    "intro",
    "<!-- bench:engines:start (generated by `npm run bench -- --write-readme --engines NAME`; edits here are overwritten) -->",
    "",
    "<!-- bench:engines:end -->",
    "outro",
    "",
  ].join("\n");

  it("says a run was taken under load when the load average exceeded the cores at its start or end", () => {
    expect(takenUnderLoad({ cores: 2, loadAverageAtStart: [12.5], loadAverageAtEnd: [1] })).toBe(true);
    expect(takenUnderLoad({ cores: 2, loadAverageAtStart: [1.9], loadAverageAtEnd: [0.5] })).toBe(false);
    const section = engineSection(engineResults("podman"));
    expect(section).toContain("**taken under load**");
    expect(section).toContain("### podman: `DOCKER_HOST=unix:///run/podman/podman.sock`");
    expect(section).toContain("- readiness-port / cli: 1 of 2 samples failed: docker run failed: boom");
    expect(section).toContain("- All three sides on podman.");
  });

  it("adds an engine's section, then replaces it, keeping the other engines' sections", () => {
    const one = withEngineSections(README, [engineResults("podman")]);
    const two = withEngineSections(one, [engineResults("remote-tls")]);
    expect(two.match(/### podman:/g)).toHaveLength(1);
    expect(two.match(/### remote-tls:/g)).toHaveLength(1);
    const again = withEngineSections(two, [engineResults("podman", { runId: "newer" })]);
    expect(again).toContain("Run `newer`");
    expect(again).not.toContain("Run `run-podman`");
    expect(again).toContain("Run `run-remote-tls`");
    expect(again.indexOf("### podman:")).toBeLessThan(again.indexOf("### remote-tls:"));
    expect(again.startsWith("intro\n<!-- bench:engines:start")).toBe(true);
    expect(again.endsWith("<!-- bench:engines:end -->\noutro\n")).toBe(true);
  });

  it("refuses a README without the markers and a results file of a local run", () => {
    expect(() => withEngineSections("no markers\n", [engineResults("podman")])).toThrow("no per-engine markers");
    expect(() => engineSection(engineResults("podman", { engine: undefined }))).toThrow("was not an engine run");
  });
});
