import type { Readable } from "node:stream";
import { debug } from "../debug.js";
import { ImageBuildError } from "../errors.js";
import type { Engine } from "./engine.js";
import { engineMessage, engineStatus } from "./engine-errors.js";
import { jsonLines } from "./json-lines.js";
import type { ProgressListener, RegistryAuth } from "./types.js";

/** Terminal colour codes (`ESC [ 91 m`). */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** How many output lines an {@link ImageBuildError} carries. */
export const BUILD_ERROR_TAIL_LINES = 30;

export interface BuildRequest {
  /** The context as a tar stream; destroyed when the build ends, however it ends. */
  context: Readable;
  /** The `/build` query (`t`, `dockerfile`, `buildargs`, `labels`, `version`, ...). */
  query: Record<string, unknown>;
  /** Credentials for the registries the Dockerfile's `FROM` lines pull from (sent as `X-Registry-Config`). */
  registryConfig?: Record<string, RegistryAuth>;
  /** The image being built, for events and errors. */
  image: string;
  /** The context directory, for errors. */
  contextDir: string;
  /** The Dockerfile's text, to quote the line a parse error points at. */
  dockerfile?: string;
  onProgress?: ProgressListener;
  /** Milliseconds the whole build may take. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Receives the short ids of images the build made and left unreferenced (see {@link BuildOutput.leftovers}). */
  leftovers?: string[];
}

interface BuildStreamLine {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string } | string;
}

/**
 * Sends a build and follows its output to the end. Resolves with the image id; a failing step, an engine refusal,
 * a context that cannot be read, or the timeout all reject with an {@link ImageBuildError} naming the step (when
 * there is one), the engine's text and the last lines of output. The stream always ends: on error the request is
 * aborted and the context destroyed.
 */
export async function runBuild(engine: Engine, request: BuildRequest): Promise<{ imageId: string; output: BuildOutput }> {
  const output = new BuildOutput(request.image, request.onProgress);
  try {
    return await follow(engine, request, output);
  } catch (error) {
    output.failureLeftover();
    throw error;
  } finally {
    request.leftovers?.push(...output.leftovers);
  }
}

async function follow(engine: Engine, request: BuildRequest, output: BuildOutput): Promise<{ imageId: string; output: BuildOutput }> {
  const local = new AbortController();
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([local.signal, timeout, ...(request.signal ? [request.signal] : [])]);
  let contextError: Error | undefined;
  request.context.once("error", (error: Error) => {
    contextError = error;
    local.abort(error);
  });
  let stream: Readable | undefined;
  const onAbort = () => stream?.destroy();
  signal.addEventListener("abort", onAbort, { once: true });
  const started = Date.now();
  try {
    stream = await engine.buildStream(request.context, request.query, request.registryConfig, signal);
    for await (const line of jsonLines<BuildStreamLine>(stream)) {
      output.push(line);
      if (output.error !== undefined) break;
    }
  } catch (error) {
    if (contextError) {
      throw new ImageBuildError(
        `Sending the build context ${request.contextDir} for ${request.image} failed: ${contextError.message} (a file changed or became unreadable while it was sent)`,
        { image: request.image, output: output.tail(), cause: contextError },
      );
    }
    if (timeout.aborted) {
      throw new ImageBuildError(
        `Building ${request.image} timed out after ${request.timeoutMs} ms${output.stepText()} (raise it with withBuildTimeout or THROWAWAY_BUILD_TIMEOUT)`,
        { image: request.image, output: output.tail(), details: output.details(), cause: error, ...output.stepField() },
      );
    }
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    if (output.error === undefined) {
      // The engine refused the request itself (HTTP 4xx/5xx): a Dockerfile it cannot parse, a bad option.
      output.fail(engineMessage(error), request.dockerfile);
      const status = engineStatus(error);
      if (status === undefined && output.lines.length > 0) output.error = `${output.error} (the connection to the engine broke)`;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    stream?.destroy();
    request.context.destroy();
  }
  if (output.error !== undefined) {
    const diskFull = saysDiskFull(output.error) || saysDiskFull(output.tail(DISK_FULL_TAIL_LINES));
    const cause = diskFull
      ? `the engine's disk is full (${firstLine(output.error)}): free space (\`docker system prune\`) or give the engine a bigger disk`
      : firstLine(output.error);
    throw new ImageBuildError(`Building ${request.image} failed${output.stepText()}: ${cause}`, {
      image: request.image,
      output: output.tail(),
      details: output.details(),
      diskFull,
      ...output.stepField(),
    });
  }
  if (!output.imageId) {
    throw new ImageBuildError(`Building ${request.image} ended without the engine reporting an image id`, {
      image: request.image,
      output: output.tail(),
      details: output.details(),
    });
  }
  debug("build", `built ${request.image} (${output.imageId.slice(7, 19)}) in ${Date.now() - started} ms`);
  return { imageId: output.imageId, output };
}

/** How many of the failed step's last output lines may tell that the disk is full (a step's own write failing). */
const DISK_FULL_TAIL_LINES = 5;

/**
 * ENOSPC, as the engine (committing a layer, extracting a base image) or a step's own program reports it. The build
 * stream carries text only, no errno, so the kernel's fixed strerror text is the one signal there is.
 */
function saysDiskFull(text: string): boolean {
  return /no space left on device/i.test(text);
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 400 ? `${line.slice(0, 397)}...` : line;
}

interface Step {
  /** The step's number (`3`), or `line 3` for a parse error; undefined when the builder does not number it. */
  position?: string;
  /** The instruction as written, e.g. `RUN npm ci`. */
  instruction: string;
}

/**
 * Turns the engine's build stream (classic JSON lines, or BuildKit's trace records) into output lines, the current
 * step, the image id and the error. Kept apart from the transport so it can be tested on recorded streams.
 */
export class BuildOutput {
  /** Every complete output line, oldest first (capped: only the tail matters for errors). */
  readonly lines: string[] = [];
  imageId: string | undefined;
  error: string | undefined;
  /**
   * Images this build made that nothing will reference once it ends (short ids): the last layer of each stage
   * before the final one (the classic builder leaves them dangling) and, after a failure, the last layer made.
   */
  readonly leftovers: string[] = [];
  private layer: { id: string; fresh: boolean } | undefined;
  private nextLayer: "base" | "cached" | "fresh" = "fresh";
  step: Step | undefined;
  private partial = "";
  private readonly trace = new BuildKitTrace((line) => this.emit(line));

  constructor(
    private readonly image: string,
    private readonly onProgress: ProgressListener | undefined,
  ) {}

  push(line: BuildStreamLine): void {
    if (typeof line.aux === "string") {
      this.trace.push(line.aux);
      if (this.trace.failedStep) this.step = this.trace.failedStep;
    } else if (line.aux?.ID) {
      this.imageId = line.aux.ID;
    }
    if (line.stream !== undefined) this.text(line.stream);
    if (line.status !== undefined) {
      this.flush();
      const status = `${line.id ? `${line.id}: ` : ""}${line.status}`;
      this.onProgress?.({
        kind: "build",
        image: this.image,
        status,
        ...(line.id ? { id: line.id } : {}),
        ...(line.progressDetail?.current !== undefined ? { current: line.progressDetail.current } : {}),
        ...(line.progressDetail?.total !== undefined ? { total: line.progressDetail.total } : {}),
      });
      // Download progress ticks are noise in an error's tail; keep only the status changes.
      if (line.progressDetail?.current === undefined) this.remember(status);
    }
    if (line.error !== undefined || line.errorDetail?.message !== undefined) {
      this.flush();
      this.error = (line.errorDetail?.message ?? line.error ?? "").trim() || "the engine reported an error without text";
      if (this.trace.failedStep) this.step = this.trace.failedStep;
    }
  }

  /** Records a failure the engine gave outside the stream; a parse error's line number picks the step. */
  fail(message: string, dockerfile?: string): void {
    this.flush();
    this.error = message.trim();
    const lineNo = /\bline (\d+)\b/.exec(message)?.[1];
    if (lineNo && dockerfile) {
      const text = dockerfile.split(/\r?\n/)[Number(lineNo) - 1]?.trim();
      if (text) this.step = { instruction: text, position: `line ${lineNo}` };
    }
  }

  private text(chunk: string): void {
    this.partial += chunk;
    let newline = this.partial.indexOf("\n");
    while (newline >= 0) {
      this.emit(this.partial.slice(0, newline).replace(/\r$/, ""));
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf("\n");
    }
  }

  private flush(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = "";
  }

  private emit(raw: string): void {
    // The classic builder wraps what a step writes to stderr in colour codes; they are noise in events and errors.
    const line = raw.replace(SGR, "");
    if (line === "" && raw !== "") return; // only colour codes: the end of a coloured stderr chunk
    // The total counts the steps throwaway adds (labels), so only the step's own number is kept.
    const step = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
    if (step) {
      this.step = { position: step[1]!, instruction: step[2]!.trim() };
      this.followLayers(this.step.instruction);
    } else {
      this.followLayer(line);
    }
    this.remember(line);
    this.onProgress?.({ kind: "build", image: this.image, status: line });
  }

  /** At each step: a new stage leaves the previous stage's last layer unreferenced, if this build made it. */
  private followLayers(instruction: string): void {
    if (/^FROM\s/i.test(instruction)) {
      if (this.layer?.fresh) this.leftovers.push(this.layer.id);
      this.layer = undefined;
      this.nextLayer = "base";
    } else {
      this.nextLayer = "fresh";
    }
  }

  /** ` ---> Using cache` and ` ---> 3f2a9c1b7d10` lines tell which layers this build made. */
  private followLayer(line: string): void {
    if (line === " ---> Using cache") {
      this.nextLayer = "cached";
      return;
    }
    const id = /^ ---> ([0-9a-f]{12})$/.exec(line)?.[1];
    if (id) this.layer = { id, fresh: this.nextLayer === "fresh" };
  }

  /** After a failure: the last layer the failed build made is left dangling too. */
  failureLeftover(): void {
    if (this.layer?.fresh && !this.leftovers.includes(this.layer.id)) this.leftovers.push(this.layer.id);
  }

  private remember(line: string): void {
    debug("build", line);
    this.lines.push(line);
    if (this.lines.length > 500) this.lines.splice(0, this.lines.length - 200);
  }

  /** ` at step 3/5 \`RUN npm ci\`` or nothing. */
  stepText(): string {
    if (!this.step) return "";
    return ` at ${this.step.position?.startsWith("line") ? "" : "step "}${this.step.position ?? ""}${this.step.position ? " " : ""}\`${this.step.instruction}\``;
  }

  stepField(): { step?: string } {
    return this.step ? { step: this.step.instruction } : {};
  }

  tail(count = BUILD_ERROR_TAIL_LINES): string {
    this.flush();
    return this.lines.slice(-count).join("\n");
  }

  details(): string {
    const tail = this.tail();
    const full = this.error?.includes("\n") ? `The engine said:\n${this.error}\n\n` : "";
    return `${full}${tail ? `Last lines of the build output:\n${tail}` : "The build printed nothing."}`;
  }
}

// ---- BuildKit trace -------------------------------------------------------------------------------------------

/**
 * Decodes the `moby.buildkit.trace` records an engine streams for BuildKit builds: base64 protobuf
 * `StatusResponse` messages (vertexes, statuses, logs). Only the fields needed for readable output are read: a
 * vertex's digest (1), name (3), cached (4), started (5), completed (6) and error (7); a log's vertex (1) and
 * message (4).
 */
class BuildKitTrace {
  failedStep: Step | undefined;
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly names = new Map<string, string>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly emit: (line: string) => void) {}

  push(aux: string): void {
    let message: Buffer;
    try {
      message = Buffer.from(aux, "base64");
    } catch {
      return;
    }
    try {
      for (const field of fields(message)) {
        if (field.number === 1 && field.bytes) this.vertex(field.bytes);
        else if (field.number === 3 && field.bytes) this.log(field.bytes);
      }
    } catch (error) {
      debug("build", `ignoring a BuildKit trace record that does not decode: ${String(error)}`);
    }
  }

  private vertex(bytes: Buffer): void {
    let digest = "";
    let name = "";
    let cached = false;
    let started = false;
    let completed = false;
    let error = "";
    for (const field of fields(bytes)) {
      if (field.number === 1 && field.bytes) digest = field.bytes.toString();
      else if (field.number === 3 && field.bytes) name = field.bytes.toString();
      else if (field.number === 4) cached = field.varint === 1;
      else if (field.number === 5) started = true;
      else if (field.number === 6) completed = true;
      else if (field.number === 7 && field.bytes) error = field.bytes.toString();
    }
    if (name) this.names.set(digest, name);
    name ||= this.names.get(digest) ?? digest.slice(0, 19);
    if ((started || cached) && !this.announced.has(digest)) {
      this.announced.add(digest);
      this.emit(name);
    }
    if (completed && !this.finished.has(digest)) {
      this.finished.add(digest);
      this.flush(digest);
      if (cached) this.emit(`${name}: CACHED`);
      if (error) {
        this.emit(`${name}: ERROR: ${error}`);
        const numbered = /^\[(?:[^\]\s]+ )?(\d+)\/\d+\] (.*)$/s.exec(name);
        this.failedStep = numbered ? { position: numbered[1]!, instruction: numbered[2]!.trim() } : { instruction: name };
      }
    }
  }

  private log(bytes: Buffer): void {
    let vertex = "";
    let msg = "";
    for (const field of fields(bytes)) {
      if (field.number === 1 && field.bytes) vertex = field.bytes.toString();
      else if (field.number === 4 && field.bytes) msg = field.bytes.toString();
    }
    let text = (this.partial.get(vertex) ?? "") + msg;
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      this.emit(text.slice(0, newline).replace(/\r$/, ""));
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    this.partial.set(vertex, text);
  }

  private flush(vertex: string): void {
    const rest = this.partial.get(vertex);
    if (rest) this.emit(rest);
    this.partial.delete(vertex);
  }
}

interface Field {
  number: number;
  varint?: number;
  bytes?: Buffer;
}

/** The fields of one protobuf message (wire types 0, 1, 2 and 5; groups are not used by these messages). */
export function* fields(buffer: Buffer): Generator<Field> {
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (offset >= buffer.length) throw new Error("truncated varint");
      const byte = buffer[offset++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error("varint too long");
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { number, varint: varint() };
    else if (wire === 2) {
      const length = varint();
      if (offset + length > buffer.length) throw new Error("truncated field");
      yield { number, bytes: buffer.subarray(offset, offset + length) };
      offset += length;
    } else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}
