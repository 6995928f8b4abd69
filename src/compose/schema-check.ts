/**
 * Checks a compose file against the Compose Specification's JSON schema (vendored in `schema/`). A small checker
 * of the draft-07 keywords that schema uses, written for messages that name the key: a generic validator reports
 * "must match exactly one schema in oneOf" where a person needs "`services.web.ports[0]` must be a string or a
 * number". `format` is not checked here: the service normaliser parses durations, sizes and ports itself.
 */
import schema from "./schema/compose-spec.json" with { type: "json" };

type Schema = boolean | { [keyword: string]: unknown };
export type KeyPath = (string | number)[];

export interface SchemaProblem {
  path: KeyPath;
  /** True when the problem is the last key of `path` itself (an unknown key), not its value. */
  atKey: boolean;
  message: string;
}

const root = schema as unknown as { definitions: Record<string, Schema> };

/** The first problems found (at most a few), most specific first; empty when the file is valid. */
export function checkComposeSchema(value: unknown): SchemaProblem[] {
  return check(schema as unknown as Schema, value, []);
}

function resolve(node: Schema): Schema {
  let current = node;
  for (let i = 0; i < 10 && typeof current === "object" && typeof current.$ref === "string"; i++) {
    const name = (current.$ref as string).replace(/^#\/definitions\//, "");
    current = root.definitions[name] ?? true;
  }
  return current;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

function describeTypes(types: string[]): string {
  const words = types.map((t) => (t === "object" ? "a mapping" : t === "array" ? "a list" : t === "null" ? "null" : `a ${t}`));
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

function check(node: Schema, value: unknown, path: KeyPath): SchemaProblem[] {
  const s = resolve(node);
  if (s === true) return [];
  if (s === false) return [{ path, atKey: true, message: "is not allowed here" }];
  const actual = typeOf(value);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(t, actual)))
      return [{ path, atKey: false, message: `must be ${describeTypes(types)}, got ${actual}` }];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) {
    return [
      { path, atKey: false, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}` },
    ];
  }
  if (typeof value === "string" && typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
    return [{ path, atKey: false, message: `must match ${s.pattern}, got ${JSON.stringify(value)}` }];
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) return [{ path, atKey: false, message: `must be at least ${s.minimum}` }];
    if (typeof s.maximum === "number" && value > s.maximum) return [{ path, atKey: false, message: `must be at most ${s.maximum}` }];
  }
  if (Array.isArray(s.oneOf)) {
    // Taken as "any of": the schema's branches are meant to be exclusive, and overlapping ones must not fail a file.
    const attempts = (s.oneOf as Schema[]).map((branch) => check(branch, value, path));
    if (!attempts.some((problems) => problems.length === 0)) return bestBranch(attempts, path);
  }
  if (actual === "object") return checkObject(s, value as Record<string, unknown>, path);
  if (actual === "array") return checkArray(s, value as unknown[], path);
  return [];
}

/** The branch that got furthest (its problem is deepest, not a type mismatch at this path) explains best. */
function bestBranch(attempts: SchemaProblem[][], path: KeyPath): SchemaProblem[] {
  const deep = attempts.filter((problems) => problems.some((p) => p.path.length > path.length || !p.message.startsWith("must be ")));
  if (deep.length === 1) return deep[0]!;
  const kinds = attempts.flatMap((problems) =>
    problems.filter((p) => p.path.length === path.length).map((p) => /^must be (.*), got/.exec(p.message)?.[1]),
  );
  const forms = [...new Set(kinds.filter((k): k is string => k !== undefined))];
  if (deep.length === 0 && forms.length > 0) {
    const got = attempts[0]?.[0]?.message.replace(/^.*, got /, "") ?? "something else";
    return [{ path, atKey: false, message: `must be ${forms.join(" or ")}, got ${got}` }];
  }
  return deep[0] ?? attempts[0] ?? [];
}

function checkObject(s: { [keyword: string]: unknown }, value: Record<string, unknown>, path: KeyPath): SchemaProblem[] {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>).map(
    ([pattern, sub]) => [new RegExp(pattern, "u"), sub] as const,
  );
  for (const required of (s.required ?? []) as string[]) {
    if (!(required in value)) return [{ path, atKey: false, message: `needs the key \`${required}\`` }];
  }
  for (const [key, item] of Object.entries(value)) {
    const childPath = [...path, key];
    let known = false;
    if (Object.hasOwn(properties, key)) {
      known = true;
      const problems = check(properties[key]!, item, childPath);
      if (problems.length > 0) return problems;
    }
    for (const [pattern, sub] of patterns) {
      if (!pattern.test(key)) continue;
      known = true;
      const problems = check(sub, item, childPath);
      if (problems.length > 0) return problems;
    }
    if (known) continue;
    const additional = s.additionalProperties as Schema | undefined;
    if (additional === false) {
      const allowed = Object.keys(properties);
      const hint = allowed.length > 0 && allowed.length <= 40 ? ` (allowed: ${allowed.join(", ")})` : "";
      return [{ path: childPath, atKey: true, message: `unknown key \`${key}\`${hint}` }];
    }
    if (additional !== undefined && additional !== true) {
      const problems = check(additional, item, childPath);
      if (problems.length > 0) return problems;
    }
  }
  return [];
}

function checkArray(s: { [keyword: string]: unknown }, value: unknown[], path: KeyPath): SchemaProblem[] {
  if (s.items !== undefined && !Array.isArray(s.items)) {
    for (let i = 0; i < value.length; i++) {
      const problems = check(s.items as Schema, value[i], [...path, i]);
      if (problems.length > 0) return problems;
    }
  }
  if (s.uniqueItems === true) {
    const seen = new Set<string>();
    for (let i = 0; i < value.length; i++) {
      const key = JSON.stringify(value[i]);
      if (seen.has(key)) return [{ path: [...path, i], atKey: false, message: `repeats ${key} (items must be unique)` }];
      seen.add(key);
    }
  }
  return [];
}

/** `services.web.ports[0]` */
export function formatPath(path: KeyPath): string {
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : text === "" ? part : `.${part}`;
  return text;
}
