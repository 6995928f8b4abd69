import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../free-port.js";

/**
 * A real registry for push/pull tests: Debian's `docker-registry` (the distribution project's server) with htpasswd
 * basic auth, on a free port of 127.0.0.1 (which dockerd treats as an insecure registry: plain http is allowed).
 * Started by the test's setup, stopped and deleted after it.
 */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image names. */
  host: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

const REGISTRY_BINARY = process.env.THROWAWAY_TEST_REGISTRY_BINARY ?? "/usr/bin/docker-registry";

/** A bcrypt htpasswd line (the only hash the registry accepts): `htpasswd -B` when installed, else Python's crypt. */
function htpasswdLine(username: string, password: string): string {
  try {
    return execFileSync("htpasswd", ["-nbB", username, password], { encoding: "utf8" }).trim();
  } catch {
    // Not installed (apache2-utils): Debian's Python has crypt() with bcrypt through libxcrypt.
  }
  try {
    const hash = execFileSync(
      "python3",
      ["-W", "ignore", "-c", "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password],
      { encoding: "utf8" },
    ).trim();
    if (hash.startsWith("$2")) return `${username}:${hash}`;
  } catch {
    // Reported below.
  }
  throw new Error("Cannot make a bcrypt htpasswd line: install apache2-utils (htpasswd) or a python3 with the crypt module");
}

/** `password`: a given one (e.g. with characters that stress an encoding); by default a random one. */
export async function startTestRegistry(options: { password?: string } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "throwaway-registry-"));
  const username = "throwaway";
  // Random per run, so a leak of it anywhere in a message is detectable and meaningless elsewhere.
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  await writeFile(join(dir, "htpasswd"), `${htpasswdLine(username, password)}\n`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  await writeFile(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      "auth:",
      "  htpasswd:",
      "    realm: throwaway-test",
      `    path: ${join(dir, "htpasswd")}`,
      "",
    ].join("\n"),
  );
  const logPath = join(dir, "registry.log");
  const log = openSync(logPath, "a");
  const child: ChildProcess = spawn(REGISTRY_BINARY, ["serve", join(dir, "config.yml")], { stdio: ["ignore", log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  child.once("error", (error) => {
    exited = error.message;
  });

  const stop = async () => {
    if (exited === undefined && child.pid !== undefined) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when /v2/ answers 401 (it wants credentials); there is no event to wait on, so ask until it answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited !== undefined) {
      const output = readFileSync(logPath, "utf8");
      await stop();
      throw new Error(`The test registry ${REGISTRY_BINARY} ${exited}:\n${output}`);
    }
    try {
      const response = await fetch(`http://${host}/v2/`);
      if (response.status === 401) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`The test registry did not answer on ${host} within 15 s:\n${readFileSync(logPath, "utf8")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { host, username, password, stop };
}
