import { randomBytes } from "node:crypto";
import { createApp } from "./app.js";
import { ConfigError, readConfig } from "./config.js";
import { MySqlUserStore } from "./store.js";

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
const DRAIN_MS = 10_000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} users-service: ${line}\n`);
}

async function main(): Promise<void> {
  const config = readConfig(process.env, () => randomBytes(32).toString("base64url"));
  if (config.token.generated) log("warning: TOKEN_SECRET is not set; using a random key, so tokens stop verifying after a restart");

  // Until the server listens, a stop signal just ends the process (no connections to drain yet).
  const abort = new AbortController();
  const early = () => abort.abort();
  process.once("SIGTERM", early).once("SIGINT", early);

  const { db } = config;
  log(`connecting to MySQL at ${db.user}@${db.host}:${db.port}/${db.database}`);
  const started = Date.now();
  const store = await MySqlUserStore.connect(db, {
    signal: abort.signal,
    onRetry: (attempt, reason) => {
      // Every retry is one line at first, then every tenth: a slow MySQL should not flood the log.
      if (attempt <= 3 || attempt % 10 === 0) log(`MySQL not reachable yet (attempt ${attempt}): ${reason}`);
    },
  });
  if (abort.signal.aborted) {
    await store.close();
    throw abort.signal.reason;
  }
  log(`MySQL ready in ${Date.now() - started} ms; table users is in place`);

  const server = createApp({ store, config, log });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, "0.0.0.0", () => resolve());
  });
  process.off("SIGTERM", early).off("SIGINT", early);
  log(`listening on port ${config.port}`);

  const shutdown = (signal: string) => {
    log(`${signal}: shutting down`);
    const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
    server.close(async () => {
      clearTimeout(force);
      await store.close().catch((error: unknown) => log(`closing the MySQL pool failed: ${String(error)}`));
      log("stopped");
      process.exit(0);
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  if ((error as Error)?.name === "AbortError") {
    log("stopped before startup finished");
    process.exit(0);
  }
  const message = error instanceof ConfigError ? `bad configuration: ${error.message}` : (error as Error)?.message || String(error);
  log(`failed to start: ${message}`);
  process.exit(1);
});
