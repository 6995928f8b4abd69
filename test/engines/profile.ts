// The engine the portable suite runs against (DOCKER_HOST and its TLS variables, as for the docker CLI), and the one
// way its tests ask what that engine can do. A test that cannot apply to an engine skips with the reason printed.
import { type EngineTraits, getEngine } from "throwaway";

export const traits: EngineTraits = await (await getEngine()).traits();

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
