import { randomBytes } from "node:crypto";
import { debug } from "../debug.js";
import { getEngine } from "../engine/current.js";
import type { Engine } from "../engine/engine.js";
import { engineMessage, engineStatus } from "../engine/engine-errors.js";
import { EngineRequestError, InvalidOptionError, shortId } from "../errors.js";
import { prepareSession } from "../reaper/index.js";
import { sessionLabels } from "../reaper/session.js";
import { trackResource, untrackResource } from "../reaper/tracker.js";

/** Docker's own rule for network names (the same as for container names). */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Options of {@link Network}; all are checked once, at {@link Network.start}. */
export interface NetworkOptions {
  /**
   * The network's name, which containers on it do not need to know (they use aliases) but `docker network ls`
   * shows. Must be unique on the engine. Default: `throwaway-<12 random hex digits>`, so parallel runs never clash.
   */
  name?: string;
  /** Extra labels, on top of the session labels every throwaway resource carries. Keys under `dev.throwaway.` are reserved. */
  labels?: Record<string, string>;
  /**
   * `true` gives containers on the network no route out of it (Docker's `--internal`); they still reach each other.
   * Ports of a container whose only network is internal are not published to the host (dockerd 20.10 and later), so
   * wait on something inside it (a log line, a command) rather than on ports. Default `false`.
   */
  internal?: boolean;
}

/**
 * A user-defined bridge network to start, so containers can reach each other by alias:
 *
 * ```ts
 * await using network = await new Network().start();
 * await using db = await new GenericContainer("mysql:5.7").withNetwork(network).withNetworkAliases("mysql").start();
 * ```
 *
 * Declare the network before its containers: `await using` disposes in reverse order, so the containers are
 * removed first and the network can go.
 */
export class Network {
  private readonly options: NetworkOptions;

  constructor(options: NetworkOptions = {}) {
    // A copy: later changes to the caller's object must not change what start() creates.
    this.options = { ...options, ...(options.labels ? { labels: { ...options.labels } } : {}) };
  }

  /**
   * The options as given (a copy). For tools that create the network their own way, e.g. `throwaway up --keep`,
   * which keeps it across runs and reuses it while these options stay the same.
   */
  getOptions(): NetworkOptions {
    return { ...this.options, ...(this.options.labels ? { labels: { ...this.options.labels } } : {}) };
  }

  /** Creates the network on the engine. Throws {@link InvalidOptionError} for bad options before anything is created. */
  async start(): Promise<StartedNetwork> {
    const { name, labels, internal } = normalizeNetworkOptions(this.options);
    const engine = await getEngine();
    prepareSession(engine);
    const started = Date.now();
    let id: string;
    try {
      id = await engine.createNetwork({
        Name: name,
        Driver: "bridge",
        // Without it the engine happily creates a second network of the same name, and names stop meaning anything.
        CheckDuplicate: true,
        Internal: internal,
        Labels: { ...labels, ...sessionLabels() },
      });
    } catch (error) {
      const taken = await networkNameTaken(engine, name, error);
      const fix = taken ? ": choose another `name`, or leave it unset for a random one" : "";
      throw requestError(`Creating network ${name} failed: ${engineMessage(error)}${fix}`, error);
    }
    trackResource(engine, "network", id);
    debug(`network ${shortId(id)}`, `created ${name} in ${Date.now() - started} ms`);
    return new StartedNetwork(engine, id, name);
  }
}

/** A network on the engine. Containers join it with `withNetwork(network)`; `stop()` removes it. */
export class StartedNetwork implements AsyncDisposable {
  private readonly engine: Engine;
  private readonly id: string;
  private readonly name: string;
  private stopping: Promise<void> | undefined;

  /** @internal Built by {@link Network.start}. */
  constructor(engine: Engine, id: string, name: string) {
    this.engine = engine;
    this.id = id;
    this.name = name;
  }

  /** The full network id. */
  getId(): string {
    return this.id;
  }

  /** The network's name, as `withNetwork` and `docker network ls` use it. */
  getName(): string {
    return this.name;
  }

  /**
   * Removes the network. Idempotent: later calls return the first call's promise. A network that is already gone
   * is not an error. When containers are still attached, the engine refuses and this throws an
   * {@link EngineRequestError} naming them (the network stays tracked, so the session's cleanup still removes
   * it); it does not disconnect them itself, since a test may still be talking to them.
   */
  stop(): Promise<void> {
    this.stopping ??= this.remove().catch((error: unknown) => {
      this.stopping = undefined; // a later call (after the containers are stopped) may try again
      throw error;
    });
    return this.stopping;
  }

  private async remove(): Promise<void> {
    const started = Date.now();
    try {
      await this.engine.removeNetwork(this.id);
    } catch (error) {
      // The engine refuses to remove a network with containers on it with a 403 (Podman removes it anyway).
      if (engineStatus(error) === 403) {
        const attached = await this.attachedContainers();
        const list = attached.length > 0 ? ` (${attached.join(", ")})` : "";
        throw requestError(
          `Removing network ${this.name} failed: ${attached.length || "some"} container${attached.length === 1 ? " is" : "s are"} still attached${list}: stop ${attached.length === 1 ? "it" : "them"} first (with \`await using\`, declare the network before its containers)`,
          error,
        );
      }
      throw requestError(`Removing network ${this.name} failed: ${engineMessage(error)}`, error);
    }
    untrackResource("network", this.id);
    debug(`network ${shortId(this.id)}`, `removed ${this.name} in ${Date.now() - started} ms`);
  }

  /** `name 3f2a9c1b7d10` for each container on the network; empty when the engine will not say. */
  private async attachedContainers(): Promise<string[]> {
    try {
      const inspect = await this.engine.inspectNetwork(this.id);
      return Object.entries(inspect.Containers ?? {}).map(([id, c]) => `${c.Name} ${shortId(id)}`);
    } catch {
      return [];
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Checks the raw options and fills in the defaults. */
export function normalizeNetworkOptions(options: NetworkOptions): Required<NetworkOptions> {
  // A null-prototype copy: an inherited `name` (e.g. from Object.prototype pollution) must not count.
  const raw: NetworkOptions = Object.assign(Object.create(null) as NetworkOptions, options);
  let name: string;
  if (raw.name === undefined) {
    name = `throwaway-${randomBytes(6).toString("hex")}`;
  } else if (typeof raw.name !== "string" || !NETWORK_NAME.test(raw.name)) {
    throw new InvalidOptionError("new Network({ name })", "a network name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", raw.name);
  } else {
    name = raw.name;
  }
  const labels: Record<string, string> = {};
  if (raw.labels !== undefined) {
    if (typeof raw.labels !== "object" || raw.labels === null || Array.isArray(raw.labels)) {
      throw new InvalidOptionError("new Network({ labels })", "an object of string values", raw.labels);
    }
    for (const [key, value] of Object.entries(raw.labels)) {
      if (key.startsWith("dev.throwaway.")) {
        throw new InvalidOptionError("new Network({ labels })", "labels outside the reserved `dev.throwaway.` namespace", key);
      }
      if (typeof value !== "string") throw new InvalidOptionError(`new Network({ labels: { ${JSON.stringify(key)} } })`, "a string", value);
      labels[key] = value;
    }
  }
  if (raw.internal !== undefined && typeof raw.internal !== "boolean") {
    throw new InvalidOptionError("new Network({ internal })", "a boolean", raw.internal);
  }
  return { name, labels, internal: raw.internal ?? false };
}

/**
 * Whether a failed create was refused because a network of that name exists: Docker says so with a 409, Podman with
 * a 500 whose only sign is its text, so then the engine is asked whether the name resolves to a network.
 */
export async function networkNameTaken(engine: Engine, name: string, error: unknown): Promise<boolean> {
  const status = engineStatus(error);
  if (status === 409) return true;
  if (status === undefined) return false;
  return engine.inspectNetwork(name).then(
    () => true,
    () => false,
  );
}

function requestError(shortMessage: string, error: unknown): EngineRequestError {
  const status = engineStatus(error);
  return new EngineRequestError(shortMessage, { cause: error, ...(status ? { statusCode: status } : {}) });
}
