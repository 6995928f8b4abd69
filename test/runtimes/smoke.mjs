// The runtime smoke (scripts/runtimes.sh smoke): under Node, Bun or Deno, imports the built package by its public
// name, starts a busybox web server, reaches it through its published port, execs in it, stops it, and then ends
// WITHOUT calling process.exit: the runner fails the run when anything of ours (the reaper's link, a socket, a timer)
// keeps the process alive.
import { GenericContainer } from "throwaway";

const runtime =
  typeof Bun !== "undefined" ? `bun ${Bun.version}` : typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : `node ${process.version}`;
const started = performance.now();
const container = await new GenericContainer("busybox")
  .withCommand(["httpd", "-f", "-p", "8080", "-h", "/www"])
  .withCopyContentToContainer([{ content: "smoke\n", target: "/www/index.html" }])
  .withExposedPorts(8080)
  .start();
const startMs = performance.now() - started;
const body = await (await fetch(`http://${container.getHost()}:${container.getMappedPort(8080)}/`)).text();
if (body !== "smoke\n") throw new Error(`expected the copied page, got ${JSON.stringify(body)}`);
const exec = await container.exec(["echo", "exec"]);
if (exec.exitCode !== 0 || exec.stdout !== "exec\n") throw new Error(`exec returned ${JSON.stringify(exec)}`);
await container.stop();
console.log(`${runtime}: started in ${Math.round(startMs)} ms, served, exec'd and removed ${container.getId().slice(0, 12)}`);
