import { debug } from "../debug.js";
import { EngineApiVersionError, EngineConnectionError, EngineHostKeyError, EngineTlsError, EngineUnavailableError } from "../errors.js";
import { endpointUrl, engineCandidates } from "./discovery.js";
import { Engine } from "./engine.js";
import { engineMessage } from "./engine-errors.js";

let cached: Promise<Engine> | undefined;
let explicit: Engine | undefined;

/**
 * Uses `engine` for everything this process starts from now on (an explicit client passed in code wins over
 * discovery). Pass `undefined` to go back to discovery.
 */
export function setEngine(engine: Engine | undefined): void {
  explicit = engine;
  cached = undefined;
}

/**
 * The engine this process talks to: the first candidate that answers `/_ping`, found once and cached. Sockets that
 * do not exist are not even tried; each ping is bounded so a dead TCP endpoint cannot stall discovery.
 */
export function getEngine(): Promise<Engine> {
  if (explicit) return Promise.resolve(explicit);
  cached ??= discover().catch((error: unknown) => {
    cached = undefined; // An engine may come up later in the process (e.g. a CLI that starts dockerd).
    throw error;
  });
  return cached;
}

async function discover(): Promise<Engine> {
  const attempts: { source: string; endpoint: string; error: string }[] = [];
  const candidates = engineCandidates();
  for (const endpoint of candidates) {
    const engine = new Engine(endpoint);
    try {
      // A missing or refused socket fails at once; the bound only matters for an engine that hangs, and a loaded
      // engine can take seconds to answer, so it is generous.
      await engine.ping(AbortSignal.timeout(15_000));
      debug("engine", `using ${engine.describe()}`);
      return engine;
    } catch (error) {
      // An engine that failed to prove who it is, or that speaks no API we share, must not make way for another
      // one quietly: the user named it, and the reason is theirs to fix.
      if (error instanceof EngineHostKeyError || error instanceof EngineTlsError || error instanceof EngineApiVersionError) throw error;
      const reason =
        error instanceof EngineConnectionError ? ((error.cause as Error | undefined)?.message ?? error.reason) : engineMessage(error);
      attempts.push({ source: endpoint.source, endpoint: endpointUrl(endpoint), error: reason });
    }
  }
  if (candidates.length === 0) {
    attempts.push({ source: "default socket", endpoint: "unix:///var/run/docker.sock", error: "no such file" });
  }
  throw new EngineUnavailableError(attempts);
}
