#!/usr/bin/env node
// `npm run demo`: builds the users-service image, starts a network, MySQL 5.7 and the service, registers, reads and
// logs in a user over HTTP, tears everything down and proves nothing is left. Exit code 0 on success; on failure one
// line on stderr and exit code 1, after tearing down what was started.
//
// Plain `node` (no TypeScript loader): `throwaway` resolves to the built package (dist/, by the package's own name),
// and the example's TypeScript modules (the fixtures, UsersServiceContainer) are compiled on the fly with esbuild,
// the same code the tests run.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url));
const colors = process.stdout.isTTY && !process.env.NO_COLOR;
const dim = (text) => (colors ? `\x1b[2m${text}\x1b[22m` : text);
const bold = (text) => (colors ? `\x1b[1m${text}\x1b[22m` : text);
const green = (text) => (colors ? `\x1b[32m${text}\x1b[39m` : text);
const red = (text) => (colors ? `\x1b[31m${text}\x1b[39m` : text);

/** `72 ms` below a second, `3.2 s` above. */
function duration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function line(mark, text, ms) {
  const timing = ms === undefined ? "" : ` ${dim(`(${duration(ms)})`)}`;
  console.log(`  ${mark} ${text}${timing}`);
}

/** Runs one step, printing `… what` first when it may take a while, then `✓ what (time)`. */
async function step(what, run, { announce = true } = {}) {
  if (announce) line(dim("…"), dim(what));
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  return { result, ms };
}

function progressPrinter() {
  const seen = new Set();
  return (event) => {
    if (event.kind === "pull") {
      if (!seen.has(`pull ${event.image}`)) line(dim("…"), dim(`pulling ${event.image}`));
      seen.add(`pull ${event.image}`);
    } else if (event.kind === "build" && /^Step \d+\/\d+ :/.test(event.status)) {
      const text = event.status.trim().replace(/\s+/g, " ");
      line(dim("·"), dim(text.length > 96 ? `${text.slice(0, 95)}…` : text));
    }
  };
}

async function loadExample() {
  const outfile = join(EXAMPLE_DIR, "build", "demo-example.mjs");
  await build({
    stdin: {
      contents: [
        'export { default as up, definitions, MYSQL_ALIAS } from "./throwaway.fixtures.ts";',
        'export { buildUsersServiceImage, USERS_SERVICE_PORT } from "./users-service-container.ts";',
      ].join("\n"),
      resolveDir: EXAMPLE_DIR,
      sourcefile: "demo-entry.ts",
      loader: "ts",
    },
    bundle: true,
    // Imported at run time, not copied in: `throwaway` is this package itself (dist/, found by its own name; listed
    // explicitly because tsconfig's `paths` would otherwise point esbuild at the sources), esbuild from node_modules.
    packages: "external",
    external: ["throwaway", "throwaway/*"],
    platform: "node",
    target: "node20",
    format: "esm",
    outfile,
    logLevel: "silent",
  });
  return import(outfile);
}

async function http(baseUrl, method, path, body) {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json, ms };
}

function expectStatus(answer, expected, what) {
  if (answer.status !== expected) {
    throw new Error(`${what} answered ${answer.status}, expected ${expected}: ${answer.text.slice(0, 300)}`);
  }
}

/** Resources started so far, stopped in reverse order by `tearDown` (also on failure and on Ctrl-C). */
const started = [];
let tearingDown;

function tearDown() {
  tearingDown ??= (async () => {
    if (started.length === 0) return;
    const names = started.map((r) => r.name).reverse();
    const { ms } = await step(
      "tearing down",
      async () => {
        const errors = [];
        for (const resource of started.reverse()) await resource.handle.stop().catch((error) => errors.push(error));
        if (errors.length > 0) throw errors[0];
      },
      { announce: false },
    );
    line(green("✓"), `removed ${names.join(", ")}`, ms);
  })();
  return tearingDown;
}

async function main() {
  const demoStarted = performance.now();
  console.log(bold("throwaway demo: the users-service next to MySQL 5.7 on a private network"));

  const throwaway = await import("throwaway");
  const example = await loadExample();
  const onProgress = progressPrinter();

  const engine = await throwaway.getEngine();
  line(green("✓"), `engine ${engine.describe()}`);

  const image = await step("bundling the service (esbuild) and building its image", () =>
    example.buildUsersServiceImage({
      onProgress,
      onBundled: (bundle) =>
        line(
          green("✓"),
          `bundled build/users-service.mjs (${(bundle.bytes / 1024 / 1024).toFixed(1)} MB, ${bundle.changed ? "rewritten" : "unchanged"})`,
          bundle.durationMs,
        ),
    }),
  );
  const { builtImage } = image.result;
  started.push({ name: "image", handle: { stop: () => builtImage.remove() } });
  line(green("✓"), `image ${builtImage.getName()} (${builtImage.cached ? "cached" : "built"})`, image.result.buildMs);

  const network = await step("creating a network", () => example.definitions.network().start(), { announce: false });
  started.push({ name: "network", handle: network.result });
  line(green("✓"), `network ${network.result.getName()}`, network.ms);

  const mysql = await step(`starting mysql:5.7 as "${example.MYSQL_ALIAS}"`, () =>
    example.definitions.mysql(network.result).start({ onProgress }),
  );
  started.push({ name: "mysql", handle: mysql.result });
  line(green("✓"), `mysql ready on ${mysql.result.getHost()}:${mysql.result.getMappedPort(3306)}`, mysql.ms);

  const users = await step("starting users-service", () =>
    example.definitions.usersService(network.result, mysql.result).withBuiltImage(image.result).start(),
  );
  started.push({ name: "users-service", handle: users.result });
  const baseUrl = users.result.getBaseUrl();
  line(green("✓"), `users-service ready at ${baseUrl}`, users.ms);

  // A fresh MySQL every run, so a fixed email never collides.
  const user = { email: "ada@example.com", name: "Ada Lovelace", pwd: "analytical-engine" };
  const created = await http(baseUrl, "POST", "/users", user);
  expectStatus(created, 201, "POST /users");
  line(bold("→"), `POST /users ${created.status} ${created.text}`, created.ms);

  const read = await http(baseUrl, "GET", `/users/${created.json.userId}`);
  expectStatus(read, 200, `GET /users/${created.json.userId}`);
  line(bold("→"), `GET /users/${created.json.userId} ${read.status} ${read.text}`, read.ms);

  const login = await http(baseUrl, "POST", "/login", { email: user.email, password: user.pwd });
  expectStatus(login, 200, "POST /login");
  const token = login.headers.get("token") ?? "";
  line(bold("→"), `POST /login ${login.status} token ${token.slice(0, 24)}… userId ${login.headers.get("userid")}`, login.ms);

  const wrong = await http(baseUrl, "POST", "/login", { email: user.email, password: "not-the-password" });
  expectStatus(wrong, 401, "POST /login with a wrong password");
  line(bold("→"), `POST /login (wrong password) ${wrong.status} ${wrong.json?.message ?? ""}`, wrong.ms);

  // What MySQL holds, asked through the MySQL container: the row, with the password only as a salted hash.
  const rows = await mysql.result.executeQuery("SELECT email, name, user_id, encrypted_pwd FROM users");
  const hashes = rows.map((row) => `${row.email} ${String(row.encrypted_pwd).split("$").slice(0, 4).join("$")}$…`);
  line(bold("→"), `MySQL users_service.users: ${rows.length} row(s): ${hashes.join(", ")}`);

  await tearDown();

  // The proof: nothing labelled with this run's session is left on the engine.
  const label = `${throwaway.LABELS.session}=${throwaway.getSessionId()}`;
  const [containers, networks, images] = await Promise.all([
    engine.listContainers({ label: [label] }),
    engine.listNetworks({ label: [label] }),
    engine.listImages({ label: [label] }),
  ]);
  if (containers.length + networks.length + images.length > 0) {
    throw new Error(
      `left behind: ${containers.length} container(s), ${networks.length} network(s), ${images.length} image(s) labelled ${label}`,
    );
  }
  console.log(
    `${green("done")} in ${duration(performance.now() - demoStarted)}: nothing left behind ${dim(`(no container, network or image labelled ${label})`)}`,
  );
}

let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
  console.error(red("interrupted: tearing down"));
  tearDown()
    .catch(() => {})
    .finally(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error) => {
    if (interrupted) return;
    // One line: the short message of throwaway's errors, the first line of anything else.
    const message = String(error?.shortMessage ?? error?.message ?? error).split("\n")[0];
    await tearDown().catch((teardownError) => {
      console.error(red(`teardown failed too: ${teardownError?.shortMessage ?? teardownError?.message ?? teardownError}`));
    });
    console.error(red(`demo failed: ${message}`));
    if (process.env.NODE_DEBUG?.includes("throwaway") && error?.message && error.message !== message) console.error(error.message);
    process.exit(1);
  },
);
