import { BaseWaitStrategy } from "../wait/strategy.js";

/**
 * Compose's own readiness for a service nobody waits on in a stronger way (no health check, no published port, no
 * dependent asking for more): the container was started. It may exit on its own afterwards, as with `docker
 * compose up -d`.
 */
export class StartedWaitStrategy extends BaseWaitStrategy {
  readonly expectsExit = true;

  describe(): string {
    return "container started";
  }

  async waitUntilReady(): Promise<void> {}
}
