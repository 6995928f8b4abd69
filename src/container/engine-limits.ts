import { endpointUrl } from "../engine/discovery.js";
import type { Engine } from "../engine/engine.js";
import { isRemoteEndpoint } from "../engine/traits.js";
import { EngineUnsupportedError, type ErrorContext } from "../errors.js";
import type { NormalizedOptions } from "./options.js";

/**
 * Refuses, before anything is created, what this engine cannot do. From the endpoint alone: no engine call.
 *
 * A bind mount names a path on the engine's machine. On a remote engine that is not the client's path, and the
 * engine silently creates an empty folder there instead: the test would run against nothing.
 */
export function refuseUnsupported(engine: Engine, options: NormalizedOptions, context: ErrorContext): void {
  if (options.binds.length === 0 || !isRemoteEndpoint(engine.endpoint)) return;
  const url = endpointUrl(engine.endpoint);
  const sources = options.binds.map((bind) => bind.split(":")[0]).join(", ");
  throw new EngineUnsupportedError(
    `Bind mounts (${sources}) need the engine on this machine, but ${url} is remote: it would mount an empty folder of its own. Copy the files in instead with withCopyDirectoriesToContainer or withCopyFilesToContainer (or copyToContainer after start)`,
    {
      ...context,
      feature: "bind mounts",
      engine: url,
      details: `A path that exists on the engine's own machine can still be mounted with withCreateOptions((body) => { body.HostConfig.Binds = [...] }).`,
    },
  );
}
