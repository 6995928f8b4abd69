/**
 * Just enough Dockerfile reading to act before the build: which images the `FROM` lines pull (their registries need
 * credentials) and which stages exist (so a wrong `target` fails before the context is sent).
 */

export interface DockerfileStage {
  /** The base image after build-arg substitution, or an earlier stage's name. */
  from: string;
  /** The stage's `AS` name, lowercased as Docker compares them. */
  name: string | undefined;
  /** True when `from` names an earlier stage (or `scratch`) rather than an image to pull. */
  internal: boolean;
}

interface LogicalLine {
  text: string;
  /** The index of the raw line it starts on. */
  start: number;
  /** The index of the raw line it ends on (after its continuations). */
  end: number;
}

/** Joins continued lines (`\\` or the `# escape=` character at the end) and drops comments, as Docker's parser does. */
function logicalLines(text: string): LogicalLine[] {
  const raw = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const escapeChar = /^#\s*escape\s*=\s*([\\`])\s*$/i.exec(raw.find((l) => l.trim() !== "") ?? "")?.[1] ?? "\\";
  const lines: LogicalLine[] = [];
  let current = "";
  let start = -1;
  raw.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed.startsWith("#")) return;
    if (start < 0 && trimmed !== "") start = index;
    if (trimmed.endsWith(escapeChar)) {
      current += `${trimmed.slice(0, -1)} `;
      return;
    }
    current += trimmed;
    if (current.trim()) lines.push({ text: current.trim(), start, end: index });
    current = "";
    start = -1;
  });
  if (current.trim()) lines.push({ text: current.trim(), start, end: raw.length - 1 });
  return lines;
}

/**
 * `text` with `instructions` added as the last lines of stage `stage` (0-based; default the last stage), i.e. right
 * before the next `FROM`. Used to give the built image its labels in one step: the classic builder turns each label
 * of the API's `labels` option into a step of its own, each run in a container.
 *
 * A `LABEL` line given for a stage that already ends with a `LABEL` instruction joins that instruction instead: the
 * classic builder creates, commits and removes a container for every instruction, so an added line is a whole
 * step; joined, the labels cost none, and the image is the same.
 */
export function appendToStage(text: string, instructions: string, stage?: number): string {
  const raw = text.split(/\r?\n/);
  const lines = logicalLines(text);
  const fromIndexes = lines.flatMap((line, index) => (/^FROM\s/i.test(line.text) ? [index] : []));
  const next = stage === undefined ? undefined : fromIndexes[stage + 1];
  const last = lines[(next ?? lines.length) - 1];
  const pairs = /^LABEL\s+(.*)$/is.exec(instructions)?.[1];
  const joinable = pairs !== undefined && !instructions.includes("\n") && last !== undefined && /^LABEL\s/i.test(last.text);
  // A last line still ending in an escape is a continuation with nothing after it: left alone.
  if (joinable && !/[\\`]\s*$/.test(raw[last.end]!)) {
    raw[last.end] = `${raw[last.end]!.trimEnd()} ${pairs}`;
    while (raw.length > 0 && raw[raw.length - 1]!.trim() === "") raw.pop();
    return `${raw.join("\n")}\n`;
  }
  if (next === undefined) {
    while (raw.length > 0 && raw[raw.length - 1]!.trim() === "") raw.pop();
    return `${raw.join("\n")}\n${instructions}\n`;
  }
  raw.splice(lines[next]!.start, 0, instructions);
  return `${raw.join("\n")}\n`;
}

/** Expands `$name`, `${name}`, `${name:-default}` and `${name:+alt}` from `args`, as Docker does in `FROM`. */
export function expandArgs(value: string, args: Record<string, string | undefined>): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced, op, word, bare) => {
    const name = (braced ?? bare) as string;
    const current = args[name];
    if (op === "-") return current ? current : (word as string);
    if (op === "+") return current ? (word as string) : "";
    return current ?? "";
  });
}

/**
 * The stages of a Dockerfile with their base images, build args applied (global `ARG`s before the first `FROM`,
 * overridden by `buildArgs`).
 */
export function parseStages(text: string, buildArgs: Record<string, string> = {}): DockerfileStage[] {
  const globals: Record<string, string | undefined> = {};
  const stages: DockerfileStage[] = [];
  const names = new Set<string>();
  for (const { text: line } of logicalLines(text)) {
    const match = /^(\w+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!;
    if (instruction === "ARG" && stages.length === 0) {
      for (const decl of rest.split(/\s+/)) {
        const eq = decl.indexOf("=");
        const name = eq >= 0 ? decl.slice(0, eq) : decl;
        const fallback = eq >= 0 ? decl.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2") : undefined;
        globals[name] = buildArgs[name] ?? fallback;
      }
    } else if (instruction === "FROM") {
      const words = rest.split(/\s+/).filter((w) => !w.startsWith("--"));
      const from = expandArgs(words[0] ?? "", globals);
      const name = words[1]?.toLowerCase() === "as" ? words[2]?.toLowerCase() : undefined;
      const internal = from.toLowerCase() === "scratch" || names.has(from.toLowerCase());
      stages.push({ from, name, internal });
      if (name) names.add(name);
    }
  }
  return stages;
}
