// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax is what these tests are about.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ComposeFileError, ComposeUnsupportedError, DockerComposeEnvironment, loadComposeProject } from "throwaway/compose";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { interpolate } from "../../src/compose/interpolate.js";
import { activeProfiles, planServices } from "../../src/compose/plan.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh project folder holding `files` (name → text). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "throwaway-compose-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function hasDockerCompose(): boolean {
  try {
    execFileSync("docker-compose", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const dockerCompose = hasDockerCompose();
if (!dockerCompose) console.log("docker-compose is not installed (apt-get install docker-compose): the comparisons with it are skipped");

/** What Debian's docker-compose 1.29 makes of the project: `config`'s output, its `$$` escapes undone. */
function composeConfig(
  dir: string,
  env: Record<string, string>,
): { services: Record<string, { environment: Record<string, string>; image: string }> } {
  const out = execFileSync("docker-compose", ["config"], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return parse(out.replace(/\$\$/g, "$"));
}

const INTERPOLATION = `services:
  app:
    image: busybox:\${TAG:-latest}
    environment:
      A: "\${SET}"
      B: "\${UNSET:-dflt}"
      C: "\${EMPTY:-dflt}"
      D: "\${EMPTY-dflt}"
      E: "\${UNSET-dflt}"
      F: "$$literal"
      G: "$SET and pre\${SET}post"
      H: "\${FROM_DOTENV}"
      I: "\${BOTH}"
      J: "\${UNSET}"
      K: "\${QUOTED}|\${SINGLE}|\${EXPORTED}|\${COMMENTED}"
      L: "\${SET?never}"
`;
const DOTENV = `# a comment
FROM_DOTENV=from-file
BOTH=file-value
QUOTED="a b"
SINGLE='x $y'
export EXPORTED=1
COMMENTED=v # trailing
`;
const SHELL = { SET: "s", EMPTY: "", BOTH: "shell-value" };

describe("interpolation and .env", () => {
  it("gives what docker-compose config gives, the shell environment winning over .env", () => {
    const dir = project({ "docker-compose.yml": INTERPOLATION, ".env": DOTENV });
    const loaded = loadComposeProject({ dir, files: ["docker-compose.yml"], environment: SHELL });
    const app = loaded.services.get("app")!;
    const expected = {
      A: "s",
      B: "dflt",
      C: "dflt",
      D: "",
      E: "dflt",
      F: "$literal",
      G: "s and prespost",
      H: "from-file",
      I: "shell-value",
      J: "",
      K: "a b|x $y|1|v",
      L: "s",
    };
    expect(app.environment).toEqual(expected);
    expect(app.image).toBe("busybox:latest");
    if (!dockerCompose) return;
    const theirs = composeConfig(dir, SHELL).services.app!;
    expect(app.environment).toEqual(theirs.environment);
    expect(app.image).toBe(theirs.image);
  });

  it("fails `${VAR:?message}` and `${VAR?message}` naming the variable, the file, the key and the line", () => {
    const dir = project({
      "docker-compose.yml": "services:\n  app:\n    image: busybox\n    environment:\n      X: ${NEEDED:?set NEEDED first}\n",
    });
    const error = (() => {
      try {
        loadComposeProject({ dir, files: ["docker-compose.yml"], environment: { NEEDED: "" } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ComposeFileError);
    const e = error as ComposeFileError;
    expect([e.file, e.keyPath, e.line]).toEqual(["docker-compose.yml", "services.app.environment.X", 5]);
    expect(e.message).toContain("required variable NEEDED is missing a value: set NEEDED first");
    expect(() => interpolate("${NEEDED?unset}", () => "")).not.toThrow();
    expect(() => interpolate("${NEEDED?unset}", () => undefined)).toThrow(/NEEDED/);
    if (!dockerCompose) return;
    expect(() => composeConfig(dir, { NEEDED: "" })).toThrow();
  });

  it("handles `:+`, `+`, nested defaults and refuses a lone `$`", () => {
    const env = (name: string) => ({ SET: "s", EMPTY: "" })[name];
    expect(interpolate("${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}", env)).toBe("alt||alt|");
    expect(interpolate("${UNSET:-${SET}-x}", env)).toBe("s-x");
    expect(() => interpolate("cost: 5$", env)).toThrow(/invalid interpolation/);
    expect(() => interpolate("${SET", env)).toThrow(/without/);
  });
});

describe("checks", () => {
  it("a schema error names the file, the key path and the line", () => {
    const dir = project({ "docker-compose.yml": "services:\n  web:\n    image: busybox\n    ports:\n      - 80\n    imagee: typo\n" });
    let error: unknown;
    try {
      loadComposeProject({ dir, files: ["docker-compose.yml"] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeFileError);
    const e = error as ComposeFileError;
    expect([e.file, e.keyPath, e.line]).toEqual(["docker-compose.yml", "services.web.imagee", 6]);
    expect(e.shortMessage).toMatch(/^docker-compose\.yml:6 at `services\.web\.imagee`: unknown key `imagee`/);
  });

  it("a wrong type names the key and the line", () => {
    const dir = project({ "docker-compose.yml": "services:\n  web:\n    image: busybox\n    cap_add: NET_ADMIN\n" });
    expect(() => loadComposeProject({ dir, files: ["docker-compose.yml"] })).toThrow(
      /docker-compose\.yml:4 at `services\.web\.cap_add`: must be a list, got string/,
    );
  });

  it("a key the schema allows but throwaway lacks is refused with its file and line, never ignored", () => {
    const dir = project({ "docker-compose.yml": "services:\n  web:\n    image: busybox\n    secrets:\n      - token\n" });
    let error: unknown;
    try {
      loadComposeProject({ dir, files: ["docker-compose.yml"] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeUnsupportedError);
    const e = error as ComposeUnsupportedError;
    expect([e.key, e.file, e.line, e.keyPath]).toEqual(["secrets", "docker-compose.yml", 4, "services.web.secrets"]);
  });

  it("invalid YAML names its line", () => {
    const dir = project({ "docker-compose.yml": "services:\n  web:\n    image: busybox\n   bad: [\n" });
    expect(() => loadComposeProject({ dir, files: ["docker-compose.yml"] })).toThrow(/docker-compose\.yml:\d+: is not valid YAML/);
  });
});

describe("merging, extends, profiles, names", () => {
  // No top-level \`name:\`: docker-compose 1.29 predates it (the name is checked on its own below).
  const base = `services:
  web:
    image: busybox
    command: httpd -f -p 80
    environment:
      - MODE=base
      - KEEP=yes
    ports: ["8080:80"]
    volumes: ["data:/data", "./conf:/conf:ro"]
  worker:
    extends:
      service: web
    command: ["sh", "-c", "sleep 1"]
    ports: []
  debug:
    image: busybox
    profiles: [debug]
    depends_on: [web]
volumes:
  data: {}
`;
  const override = `services:
  web:
    environment:
      MODE: override
    ports: ["9090:90/udp"]
    volumes: ["/tmp:/conf"]
`;

  it("merges files as Compose does and matches docker-compose config", () => {
    const dir = project({ "docker-compose.yml": base, "docker-compose.override.yml": override });
    const loaded = loadComposeProject({ dir, files: ["docker-compose.yml", "docker-compose.override.yml"] });
    expect(loaded.name).toBe(
      loaded.dir
        .split("/")
        .at(-1)!
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, ""),
    );
    const named = project({ "compose.yaml": `name: Shop_App\n${base}` });
    expect(loadComposeProject({ dir: named, files: ["compose.yaml"] }).name).toBe("shop_app");
    expect(loadComposeProject({ dir: named, files: ["compose.yaml"], projectName: "other" }).name).toBe("other");
    const web = loaded.services.get("web")!;
    expect(web.environment).toEqual({ MODE: "override", KEEP: "yes" });
    expect(web.command).toEqual(["httpd", "-f", "-p", "80"]);
    expect(web.ports).toEqual([
      { container: 80, protocol: "tcp", host: 8080 },
      { container: 90, protocol: "udp", host: 9090 },
    ]);
    expect(web.mounts).toEqual([
      { type: "volume", source: "data", target: "/data", readOnly: false },
      { type: "bind", source: "/tmp", target: "/conf", readOnly: false },
    ]);
    const worker = loaded.services.get("worker")!;
    expect(worker.environment).toEqual({ MODE: "base", KEEP: "yes" });
    expect(worker.command).toEqual(["sh", "-c", "sleep 1"]);
    if (!dockerCompose) return;
    const theirs = composeConfig(dir, {}).services;
    expect(web.environment).toEqual(theirs.web!.environment);
    expect(worker.environment).toEqual(theirs.worker!.environment);
  });

  it("reads env_file under environment, and extends a service of another file with its paths relative to it", () => {
    const dir = project({
      "docker-compose.yml": `services:
  api:
    extends:
      file: common/base.yml
      service: base
    env_file: [api.env]
    environment:
      LEVEL: debug
`,
      "api.env": "LEVEL=info\nNAME=api\n# comment\nQUOTED='single $x'\n",
    });
    mkdirSync(join(dir, "common", "ctx"), { recursive: true });
    writeFileSync(
      join(dir, "common", "base.yml"),
      'services:\n  base:\n    image: busybox\n    build: ./ctx\n    environment:\n      FROM_BASE: "yes"\n',
    );
    const api = loadComposeProject({ dir, files: ["docker-compose.yml"] }).services.get("api")!;
    expect(api.environment).toEqual({ LEVEL: "debug", NAME: "api", QUOTED: "single $x", FROM_BASE: "yes" });
    expect(api.build?.context).toBe(join(dir, "common", "ctx"));
    if (!dockerCompose) return;
    expect(api.environment).toEqual(composeConfig(dir, {}).services.api!.environment);
  });

  it("leaves out services whose profiles are inactive, unless asked for by name", () => {
    const dir = project({ "compose.yaml": base });
    const loaded = loadComposeProject({ dir, files: ["compose.yaml"] });
    expect(planServices(loaded, activeProfiles(loaded, []))).toEqual(["web", "worker"]);
    expect(planServices(loaded, activeProfiles(loaded, ["debug"]))).toEqual(["web", "worker", "debug"]);
    expect(planServices(loaded, new Set(), ["debug"])).toEqual(["web", "debug"]);
    const viaEnv = loadComposeProject({ dir, files: ["compose.yaml"], environment: { COMPOSE_PROFILES: "debug" } });
    expect(planServices(viaEnv, activeProfiles(viaEnv, undefined))).toContain("debug");
  });

  it("DockerComposeEnvironment checks the files before anything is created", async () => {
    const dir = project({ "docker-compose.yml": "services:\n  web:\n    image: busybox\n    network_mode: host\n" });
    await expect(new DockerComposeEnvironment(dir, "docker-compose.yml").up()).rejects.toBeInstanceOf(ComposeUnsupportedError);
  });
});
