/**
 * One compose file read from disk: parsed YAML that remembers where each key was (for errors that name the line),
 * its values interpolated, checked against the schema.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { type Document, isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { ComposeFileError } from "./errors.js";
import { InterpolationProblem, interpolate, type Lookup } from "./interpolate.js";
import { checkComposeSchema, formatPath, type KeyPath } from "./schema-check.js";

export interface ComposeSource {
  /** Absolute path. */
  path: string;
  /** As messages show it: relative to the project folder when inside it. */
  display: string;
  /** The file's values after interpolation. */
  data: Record<string, unknown>;
  /** 1-based line of a key path, or of its nearest ancestor present in the file. */
  lineOf(path: KeyPath, atKey?: boolean): number | undefined;
}

/** Reads, parses, interpolates and checks one compose file. `onUnset` hears variables used but not set. */
export function readComposeSource(path: string, projectDir: string, lookup: Lookup, onUnset: (name: string) => void): ComposeSource {
  const fromProject = relative(projectDir, path);
  const display = fromProject && !fromProject.startsWith("..") && !isAbsolute(fromProject) ? fromProject : path;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new ComposeFileError(
      { file: display, keyPath: "", line: undefined },
      missing ? "the file does not exist" : `cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new ComposeFileError({ file: display, keyPath: "", line }, `is not valid YAML: ${yamlError.message.split("\n")[0]}`);
  }
  const lineOf = (keyPath: KeyPath, atKey = false) => findLine(doc, lineCounter, keyPath, atKey);
  const raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (raw === null || raw === undefined) {
    throw new ComposeFileError({ file: display, keyPath: "", line: 1 }, "is empty: a compose file needs at least `services:`");
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ComposeFileError({ file: display, keyPath: "", line: 1 }, "must be a mapping (`services:` and friends) at the top");
  }
  const data = interpolateTree(raw, [], (value, keyPath) => {
    try {
      return interpolate(value, lookup, onUnset);
    } catch (error) {
      if (!(error instanceof InterpolationProblem)) throw error;
      throw new ComposeFileError({ file: display, keyPath: formatPath(keyPath), line: lineOf(keyPath) }, error.message);
    }
  }) as Record<string, unknown>;
  const problem = checkComposeSchema(data)[0];
  if (problem) {
    throw new ComposeFileError(
      { file: display, keyPath: formatPath(problem.path), line: lineOf(problem.path, problem.atKey) },
      `${problem.message} (Compose Specification schema)`,
    );
  }
  return { path, display, data, lineOf };
}

function interpolateTree(value: unknown, path: KeyPath, each: (text: string, path: KeyPath) => string): unknown {
  if (typeof value === "string") return each(value, path);
  if (Array.isArray(value)) return value.map((item, i) => interpolateTree(item, [...path, i], each));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateTree(item, [...path, key], each)]));
  }
  return value;
}

function findLine(doc: Document, lineCounter: LineCounter, path: KeyPath, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = rangeLine(node, lineCounter);
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) return best;
      const keyLine = rangeLine(pair.key, lineCounter);
      if (i === path.length - 1 && atKey) return keyLine ?? best;
      node = pair.value;
      best = rangeLine(node, lineCounter) ?? keyLine ?? best;
      // A block mapping or list value starts on the line after its key: point at the key for the value itself.
      if (i === path.length - 1 && (isMap(node) || (node as { items?: unknown })?.items)) best = keyLine ?? best;
    } else if (node && typeof node === "object" && Array.isArray((node as { items?: unknown }).items) && typeof part === "number") {
      node = (node as { items: unknown[] }).items[part];
      if (node === undefined) return best;
      best = rangeLine(node, lineCounter) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

function rangeLine(node: unknown, lineCounter: LineCounter): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? lineCounter.linePos(range[0]).line : undefined;
}
