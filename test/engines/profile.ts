// The engine the portable suite runs against (DOCKER_HOST and its TLS variables, as for the docker CLI), and the one
// way its tests ask what that engine can do. A test that cannot apply to an engine skips with the reason printed.
import { type EngineTraits, getEngine } from "throwaway";

const engine = await getEngine();
// Discovery moves on to the next place when DOCKER_HOST does not answer: the matrix must never pass on another engine.
if (process.env.DOCKER_HOST && engine.endpoint.source !== "DOCKER_HOST") {
  throw new Error(
    `DOCKER_HOST=${process.env.DOCKER_HOST} did not answer; throwaway fell back to ${engine.describe()}. Start that engine first.`,
  );
}
export const traits: EngineTraits = await engine.traits();

/** Skips the running test on this engine, saying why in the run's output (and as the skip note). */
export function skipOnThisEngine(context: { skip: (note?: string) => void }, reason: string): void {
  console.warn(`[test:engines] skipped on ${traits.description}: ${reason}`);
  context.skip(reason);
}

export const BUSYBOX = "busybox:latest";

/** A busybox web server answering `text` at / on port 8080. */
export const webCommand = (text: string) => [
  "sh",
  "-c",
  `mkdir -p /www && echo '${text}' > /www/index.html && exec httpd -f -p 8080 -h /www`,
];
