import { fork, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The processes the bench runs samples in: long-lived side workers (in-process workloads) and fresh processes
 * (workloads where process start is part of the cost). All run on the bench's Node 22.
 */

const sidesDir = fileURLToPath(new URL("../sides/", import.meta.url));
const freshDir = fileURLToPath(new URL("../fresh/", import.meta.url));
/** Output kept per process for failure reports. */
const KEEP_OUTPUT = 8000;

function keepTail(text, chunk) {
  const next = text + chunk;
  return next.length > KEEP_OUTPUT ? next.slice(-KEEP_OUTPUT) : next;
}

export class SideWorker {
  /**
   * @param {string} side `throwaway`, `testcontainers` or `cli`
   * @param {NodeJS.ProcessEnv} env
   * @param {string} nodePath
   */
  constructor(side, env, nodePath) {
    this.side = side;
    this.env = env;
    this.nodePath = nodePath;
    this.child = undefined;
    this.output = "";
    this.pending = new Map();
    this.nextId = 0;
  }

  async start() {
    const child = fork(`${sidesDir}worker.mjs`, [this.side], {
      execPath: this.nodePath,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child = child;
    child.stdout.on("data", (c) => (this.output = keepTail(this.output, c.toString())));
    child.stderr.on("data", (c) => (this.output = keepTail(this.output, c.toString())));
    child.on("exit", (code, signal) => {
      for (const { reject } of this.pending.values()) {
        reject(new Error(`the ${this.side} worker exited (${signal ?? `code ${code}`}):\n${this.output.slice(-2000)}`));
      }
      this.pending.clear();
      if (this.child === child) this.child = undefined;
    });
    await new Promise((resolve, reject) => {
      child.once("message", (m) => (m?.ready ? resolve(undefined) : reject(new Error(`unexpected first message ${JSON.stringify(m)}`))));
      child.once("exit", (code) => reject(new Error(`the ${this.side} worker exited with ${code} before it was ready:\n${this.output}`)));
    });
    child.on("message", (message) => {
      const entry = this.pending.get(message?.id);
      if (!entry) return;
      this.pending.delete(message.id);
      entry.resolve(message);
    });
  }

  /**
   * Runs one sample; a worker that does not answer within `timeoutMs` is killed (and restarted on the next call).
   * @returns {Promise<{ ok: boolean, result?: object, error?: string, skip?: boolean }>}
   */
  async run(workload, params, timeoutMs) {
    if (!this.child) await this.start();
    const id = ++this.nextId;
    const child = this.child;
    let timer;
    try {
      return await new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        timer = setTimeout(() => {
          this.pending.delete(id);
          child.kill("SIGKILL");
          reject(new Error(`the ${this.side} worker did not finish ${workload} within ${timeoutMs} ms (killed)`));
        }, timeoutMs);
        child.send({ id, workload, params });
      });
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise((resolve) => {
      child.once("exit", () => resolve(undefined));
      child.disconnect();
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
  }
}

/**
 * Runs `bench/fresh/<script>.mjs` in a new process and times it from spawn to exit. The script reports its own
 * measurements on its last stdout line (JSON); `onMessage` answers IPC messages (the API-call marks).
 * @param {{ script: string, args?: string[], env: NodeJS.ProcessEnv, nodePath: string, timeoutMs: number,
 *   onMessage?: (message: any, reply: (m: object) => void) => void }} options
 * @returns {Promise<{ ok: boolean, wallMs?: number, result?: any, messages: any[], error?: string }>}
 */
export function runFresh({ script, args = [], env, nodePath, timeoutMs, onMessage }) {
  return new Promise((resolve) => {
    const messages = [];
    let output = "";
    let stdout = "";
    const started = performance.now();
    // Plain spawn unless the script talks back: an IPC channel is setup a real test process would not pay.
    const child = onMessage
      ? fork(`${freshDir}${script}.mjs`, args, { execPath: nodePath, env, stdio: ["ignore", "pipe", "pipe", "ipc"] })
      : spawn(nodePath, [`${freshDir}${script}.mjs`, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c) => {
      stdout = keepTail(stdout, c.toString());
      output = keepTail(output, c.toString());
    });
    child.stderr.on("data", (c) => (output = keepTail(output, c.toString())));
    child.on("message", (message) => {
      messages.push(message);
      onMessage?.(message, (reply) => child.connected && child.send(reply));
    });
    child.on("exit", (code, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      if (code !== 0) {
        resolve({ ok: false, messages, error: `${script} ${args.join(" ")} exited with ${signal ?? code}:\n${output.slice(-2000)}` });
        return;
      }
      const last = stdout.trim().split("\n").pop() ?? "";
      let result;
      try {
        result = last.startsWith("{") ? JSON.parse(last) : undefined;
      } catch {
        result = undefined;
      }
      resolve({ ok: true, wallMs, result, messages });
    });
  });
}
