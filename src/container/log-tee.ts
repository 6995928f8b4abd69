import type { LogLine } from "../engine/demux.js";

/**
 * One followed log stream serving a log consumer and the start's wait strategy. The consumer gets each line before
 * any waiter does, so when a log wait sees its line, the consumer already has it and every line before it (two
 * streams raced: start() could resolve before the consumer had a single line). It also spares the second stream.
 * Lines are kept for replay only while the start's wait runs, since a wait may subscribe after lines arrived;
 * {@link endReplay} drops them, and the consumer alone goes on.
 */
export class LogTee {
  private readonly kept: LogLine[] = [];
  private readonly wakers = new Set<() => void>();
  private replay = true;
  private ended = false;
  private readonly source: Promise<AsyncIterable<LogLine>>;
  /** Settles (never rejects) once the engine answered the follow request. */
  readonly opened: Promise<void>;

  constructor(source: Promise<AsyncIterable<LogLine>>, consumer: (line: LogLine) => void, onStop: (error: unknown) => void) {
    this.source = source;
    this.opened = source.then(
      () => {},
      () => {},
    );
    void this.pump(consumer, onStop).catch(onStop);
  }

  private async pump(consumer: (line: LogLine) => void, onStop: (error: unknown) => void): Promise<void> {
    let consume: ((line: LogLine) => void) | undefined = consumer;
    try {
      for await (const line of await this.source) {
        try {
          consume?.(line);
        } catch (error) {
          // A consumer that throws is done (as it was with a stream of its own); the start's wait reads on.
          consume = undefined;
          onStop(error);
        }
        if (!consume && !this.replay) return;
        if (this.replay) {
          this.kept.push(line);
          this.wake();
        }
      }
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** The lines from the first on, then as they come, until the stream ends, replay ends, or `signal` aborts. */
  async lines(signal: AbortSignal): Promise<AsyncIterable<LogLine>> {
    await this.source; // a refused follow request fails the wait's call, as its own request would
    return this.follow(signal);
  }

  private async *follow(signal: AbortSignal): AsyncGenerator<LogLine> {
    let index = 0;
    for (;;) {
      if (index < this.kept.length) {
        yield this.kept[index++]!;
        continue;
      }
      if (this.ended || !this.replay || signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wakers.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.wakers.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** The start's wait is over: forget the kept lines and end any follower still reading. */
  endReplay(): void {
    this.replay = false;
    this.kept.length = 0;
    this.wake();
  }
}
