/**
 * How to write your own module: a container class for a service of your own, built from its Dockerfile on the fly.
 *
 * ```ts
 * await using network = await new Network().start();
 * await using mysql = await new MySqlContainer("mysql:5.7").withNetwork(network).withNetworkAliases("mysql").start();
 * await using users = await new UsersServiceContainer().withNetwork(network).withMySql(mysql).start();
 * await fetch(`${users.getBaseUrl()}/users`);
 * ```
 *
 * `start()` bundles the service (esbuild), builds the image from this folder's Dockerfile (cached by content: an
 * unchanged service is not rebuilt), then starts it like any `GenericContainer` and waits until `/health_check`
 * answers 200, which the service only does once MySQL answers too.
 */
import {
  type BuiltImage,
  type ConnectionInfo,
  type ContainerHandleState,
  GenericContainer,
  InvalidOptionError,
  type ModuleDefaults,
  type ProgressListener,
  StartedContainer,
  Wait,
} from "throwaway";
import type { StartedMySqlContainer } from "throwaway/mysql";
import { type BundleResult, bundleUsersService, EXAMPLE_DIR } from "./bundle.js";

/** The port the service listens on in the container. */
export const USERS_SERVICE_PORT = 8080;
/** The repository the built image is tagged into; the tag is the content digest. */
export const USERS_SERVICE_REPOSITORY = "throwaway-examples/users-service";

/** Where the service finds MySQL. */
export interface UsersServiceDatabase {
  /** Host name, as seen from the service's container: a network alias. Default `mysql`. */
  host?: string;
  /** Default 3306 (MySQL's port inside its container, not the mapped one). */
  port?: number;
  /** Default `root`. */
  user?: string;
  /** Default empty, as with `MYSQL_ALLOW_EMPTY_PASSWORD`. */
  password?: string;
  /** Created by the service when missing. Default `users_service`. */
  database?: string;
}

export interface UsersServiceImage {
  /** The image reference to run. */
  image: string;
  /** The built image: `cached` says whether it was found rather than built; `remove()` removes it. */
  builtImage: BuiltImage;
  bundle: BundleResult;
  /** Milliseconds the image build took (close to nothing on a cache hit). */
  buildMs: number;
}

export interface BuildOptions {
  /** Receives build progress events (the engine's output lines). */
  onProgress?: ProgressListener;
  /**
   * Keep the image after this run, so the next run finds it in the cache. Default `false`: the image carries the
   * session labels and is removed with the run's other resources (within a run it is built once).
   */
  keep?: boolean;
  /** Called once the bundle is written (or found unchanged), before the image build starts. */
  onBundled?: (bundle: BundleResult) => void;
}

/**
 * Bundles the service and builds its image. `start()` calls it; call it yourself to build ahead (e.g. in a global
 * setup) or to report progress. Cheap when nothing changed: the bundle is byte-identical, so the build is a cache hit.
 */
export async function buildUsersServiceImage(options: BuildOptions = {}): Promise<UsersServiceImage> {
  const bundle = await bundleUsersService();
  options.onBundled?.(bundle);
  const started = Date.now();
  // The context is this folder; its .dockerignore lets only the Dockerfile and the bundle in, so the image's cache
  // key is exactly those two files.
  const builtImage = await GenericContainer.fromDockerfile(EXAMPLE_DIR).buildImage(undefined, {
    keep: options.keep ?? false,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { image: builtImage.getName(), builtImage, bundle, buildMs: Date.now() - started };
}

/** The users-service from this example, built from its Dockerfile. */
export class UsersServiceContainer extends GenericContainer<StartedUsersServiceContainer> {
  private buildOptions: BuildOptions = {};
  private built: UsersServiceImage | undefined;

  constructor() {
    // The real reference is known only after the build (it is the content digest); moduleDefaults() gives it.
    super(`${USERS_SERVICE_REPOSITORY}:unbuilt`);
  }

  /**
   * Where MySQL is, as seen from this container (`DB_HOST`, `DB_PORT`, `DB_USER`, `DB_PASSWORD`, `DB_NAME`). Merged
   * over the defaults, `root@mysql:3306/users_service` with an empty password.
   */
  withDatabase(database: UsersServiceDatabase): this {
    return this.withEnvironment(databaseEnvironment(database));
  }

  /**
   * Points the service at a started MySqlContainer on a shared network: reached by `alias` (one of its
   * `withNetworkAliases`, default `mysql`) on port 3306, as its configured user, in its database.
   */
  withMySql(mysql: StartedMySqlContainer, alias = "mysql"): this {
    const aliases = Object.values(mysql.getInspectResult().NetworkSettings.Networks ?? {}).flatMap((n) => n.Aliases ?? []);
    if (!aliases.includes(alias)) {
      // Docker also lists the short container id as an alias; only the user's own are worth suggesting.
      const own = aliases.filter((a) => !mysql.getId().startsWith(a));
      throw new InvalidOptionError(
        "withMySql(mysql, alias)",
        `a network alias of the MySQL container (${own.join(", ") || "it has none"})`,
        alias,
        {
          hint: "start MySQL with withNetwork(network).withNetworkAliases(alias), and this container withNetwork(network)",
        },
      );
    }
    return this.withDatabase({
      host: alias,
      port: 3306,
      user: mysql.getUsername(),
      password: mysql.getUserPassword(),
      database: mysql.getDatabase(),
    });
  }

  /** `TOKEN_SECRET`: the HMAC key for login tokens, at least 32 characters. Default: random per container start. */
  withTokenSecret(secret: string): this {
    return this.withEnvironment({ TOKEN_SECRET: secret });
  }

  /** `GREETING_MESSAGE`: what `GET /welcome` answers. Default `Welcome to the Simple E-commerce.` */
  withGreeting(message: string): this {
    return this.withEnvironment({ GREETING_MESSAGE: message });
  }

  /** Receives the image build's progress when `start()` builds it. */
  withBuildProgress(listener: ProgressListener): this {
    this.buildOptions = { onProgress: listener };
    return this;
  }

  /** Uses an image built ahead with {@link buildUsersServiceImage} instead of building in `start()`. */
  withBuiltImage(built: UsersServiceImage): this {
    this.built = built;
    return this;
  }

  /**
   * The built image, its port, `PORT`, the database defaults and the `/health_check` wait. They go into the copy this
   * start normalises, under what the user set: the builder is left as it was.
   */
  protected override async moduleDefaults(): Promise<ModuleDefaults> {
    const built = this.built ?? (await buildUsersServiceImage(this.buildOptions));
    return {
      image: built.image,
      exposedPorts: [USERS_SERVICE_PORT],
      env: { PORT: USERS_SERVICE_PORT, ...databaseEnvironment(DEFAULT_DATABASE) },
      waitStrategy: Wait.forHttp("/health_check", USERS_SERVICE_PORT),
    };
  }

  protected override createStarted(state: ContainerHandleState): StartedUsersServiceContainer {
    return new StartedUsersServiceContainer(state);
  }
}

/** The service's database when neither `withDatabase` nor `withMySql` says otherwise. */
const DEFAULT_DATABASE: Required<UsersServiceDatabase> = {
  host: "mysql",
  port: 3306,
  user: "root",
  password: "",
  database: "users_service",
};

function databaseEnvironment(database: UsersServiceDatabase): Record<string, string | number> {
  const env: Record<string, string | number> = {};
  if (database.host !== undefined) env.DB_HOST = database.host;
  if (database.port !== undefined) env.DB_PORT = database.port;
  if (database.user !== undefined) env.DB_USER = database.user;
  if (database.password !== undefined) env.DB_PASSWORD = database.password;
  if (database.database !== undefined) env.DB_NAME = database.database;
  return env;
}

export class StartedUsersServiceContainer extends StartedContainer {
  /** `http://127.0.0.1:<mapped port>`: the service as the host sees it. Ports may change on `restart()`. */
  getBaseUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(USERS_SERVICE_PORT)}`;
  }

  /** Adds the service's base `url` (`USERS_SERVICE_URL` in `throwaway up --write-env`). */
  override connectionInfo(): ConnectionInfo {
    const base = super.connectionInfo();
    return { ...base, values: { ...base.values, url: this.getBaseUrl() } };
  }
}
