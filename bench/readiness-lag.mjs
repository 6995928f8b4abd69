// How soon the default port wait notices readiness on the engine DOCKER_HOST names (a local socket, Podman, a remote
// engine): the container stamps the kernel clock (busybox `adjtimex`: microseconds, the same clock as the client's
// when the engine runs on this machine, as the local engines and the network-namespace "remote" ones here do) right
// before httpd listens, and the lag runs from that stamp to start() returning. Also counts the execs the wait ran.
//   node bench/readiness-lag.mjs [samples]     (after npm run build)
import { GenericContainer, getEngine } from "throwaway";

const samples = Number(process.argv[2] ?? 7);
const engine = await getEngine();
const lags = [];
const execs = [];
for (let i = 0; i < samples; i++) {
  const before = engine.apiCalls;
  const container = await new GenericContainer("busybox")
    .withCommand(["sh", "-c", "sleep 1; adjtimex > /tmp/stamp; exec httpd -f -p 8080"])
    .withExposedPorts(8080)
    .start();
  const returned = Date.now();
  const calls = engine.apiCalls - before;
  const stamp = (await container.exec(["cat", "/tmp/stamp"])).stdout;
  const seconds = Number(/tv_sec:\s*(\d+)/.exec(stamp)?.[1]);
  const micros = Number(/tv_usec:\s*(\d+)/.exec(stamp)?.[1]);
  lags.push(returned - (seconds * 1000 + micros / 1000));
  // A start costs 4 calls (create, start, inspect, wait); an exec probe costs 3 (create, start, inspect).
  execs.push(Math.max(0, Math.round((calls - 4) / 3)));
  await container.stop();
}
const sorted = [...lags].sort((a, b) => a - b);
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const traits = await engine.traits();
console.log(
  `${traits.description}: port-wait lag median ${fmt(sorted[Math.floor(sorted.length / 2)])} [${fmt(sorted[0])}-${fmt(sorted.at(-1))}] over ${samples} starts; exec probes per start: ${execs.join(", ")}`,
);
