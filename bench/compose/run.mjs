#!/usr/bin/env node
// The compose workload of issue 16, on its own (not yet one of bench/run.mjs's workloads): throwaway's native
// DockerComposeEnvironment side by side with Debian's docker-compose 1.29 (`up -d`, then a readiness loop), on the
// same file. Times `up` until every service is ready (app and web answer HTTP on their mapped ports, job exited 0,
// MySQL healthy) and `down` until everything is removed. Usage: `npm run build && node bench/compose/run.mjs [N]`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DockerComposeEnvironment } from "../../dist/compose/index.js";
import { median } from "../lib/stats.mjs";

const run = promisify(execFile);
const DIR = fileURLToPath(new URL(".", import.meta.url));
const SAMPLES = Number(process.argv[2] ?? 5);

async function answers(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/`)).ok;
  } catch {
    return false;
  }
}

async function throwawaySample() {
  const project = `bench-compose-tw-${randomBytes(3).toString("hex")}`;
  const t0 = performance.now();
  const env = await new DockerComposeEnvironment(DIR, "docker-compose.yml").withProjectName(project).up();
  // up() resolved with every service ready by its own wait; check what the other side's loop checks, for parity.
  const ok =
    (await answers(env.getContainer("app-1").getMappedPort(8080))) && (await answers(env.getContainer("web-1").getMappedPort(8080)));
  const up = performance.now() - t0;
  if (!ok) throw new Error("throwaway: a service did not answer after up()");
  const t1 = performance.now();
  await env.down();
  return { up, down: performance.now() - t1 };
}

async function mappedPort(project, service) {
  const { stdout } = await run("docker", ["port", `${project}_${service}_1`, "8080/tcp"]);
  return Number(stdout.trim().split("\n")[0].split(":").at(-1));
}

async function composeSample() {
  const project = `benchcomposedc${randomBytes(3).toString("hex")}`;
  const compose = (...args) => run("docker-compose", ["-p", project, "-f", "docker-compose.yml", ...args], { cwd: DIR });
  const t0 = performance.now();
  // docker-compose 1.29 waits for service_healthy and service_completed_successfully itself before the dependents.
  await compose("up", "-d", "--quiet-pull");
  const ports = await Promise.all([mappedPort(project, "app"), mappedPort(project, "web")]);
  for (;;) {
    if ((await answers(ports[0])) && (await answers(ports[1]))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const up = performance.now() - t0;
  const t1 = performance.now();
  await compose("down", "-v", "-t", "0");
  const down = performance.now() - t1;
  // The image docker-compose tagged for `app` (untimed: throwaway's side leaves none either, its build is the session's).
  await run("docker", ["rmi", `${project}_app`]);
  return { up, down };
}

const results = { throwaway: { up: [], down: [] }, "docker-compose": { up: [], down: [] } };
// One warm-up round each (image build caches, page cache), then alternating samples.
await throwawaySample();
await composeSample();
for (let i = 0; i < SAMPLES; i++) {
  for (const [side, sample] of [
    ["throwaway", throwawaySample],
    ["docker-compose", composeSample],
  ]) {
    const { up, down } = await sample();
    results[side].up.push(up);
    results[side].down.push(down);
    process.stderr.write(`${side} sample ${i + 1}: up ${up.toFixed(0)} ms, down ${down.toFixed(0)} ms\n`);
  }
}
const row = (side) => ({ side, upMs: Math.round(median(results[side].up)), downMs: Math.round(median(results[side].down)) });
const tw = row("throwaway");
const dc = row("docker-compose");
console.log(
  JSON.stringify(
    {
      samples: SAMPLES,
      throwaway: tw,
      dockerCompose: dc,
      upRatio: +(tw.upMs / dc.upMs).toFixed(2),
      downRatio: +(tw.downMs / dc.downMs).toFixed(2),
    },
    null,
    2,
  ),
);
