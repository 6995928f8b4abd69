import { request } from "node:http";

/**
 * The client every side uses for "first successful request", and the CLI side's readiness loop. Plain `node:http`
 * with no agent: loading fetch (undici) would add its own cost to fresh-process samples, and keep-alive would let a
 * later request ride on an earlier connection.
 */

/** How long the CLI side's tight readiness loops sleep between attempts (ms). */
export const POLL_INTERVAL_MS = 2;
/** How long any readiness loop may take before the sample fails (ms). */
export const PROBE_DEADLINE_MS = 120_000;

/**
 * One GET; resolves with the status code and body.
 * @param {string} host
 * @param {number} port
 * @param {string} [path]
 * @returns {Promise<{ status: number, body: string }>}
 */
export function httpGet(host, port, path = "/") {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: "GET", agent: false, timeout: 2000 }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Retries `attempt` every {@link POLL_INTERVAL_MS} until it resolves; returns its value and how many attempts failed
 * first (for the libraries that number should be 0: their wait said "ready").
 * @template T
 * @param {() => Promise<T>} attempt
 * @param {string} what for the error when the deadline passes
 * @returns {Promise<{ value: T, failures: number }>}
 */
export async function retryUntil(attempt, what) {
  const deadline = performance.now() + PROBE_DEADLINE_MS;
  let failures = 0;
  let last;
  for (;;) {
    try {
      return { value: await attempt(), failures };
    } catch (error) {
      last = error;
      failures++;
    }
    if (performance.now() > deadline) {
      throw new Error(`${what} did not succeed within ${PROBE_DEADLINE_MS} ms: ${last instanceof Error ? last.message : last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/**
 * GETs until the answer is 200 `ok` (what the busybox httpd serves).
 * @param {string} host
 * @param {number} port
 */
export function untilHttpOk(host, port) {
  return retryUntil(async () => {
    const { status, body } = await httpGet(host, port);
    if (status !== 200 || body.trim() !== "ok") throw new Error(`HTTP ${status} ${JSON.stringify(body.slice(0, 80))}`);
    return status;
  }, `GET http://${host}:${port}/`);
}

/** Epoch milliseconds with sub-millisecond precision, on the clock the engine's log timestamps use. */
export function epochNow() {
  return performance.timeOrigin + performance.now();
}
