import { interpolate, type Lookup } from "./interpolate.js";

/** A dotenv syntax problem with its 1-based line. */
export class DotenvProblem extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$" };

/**
 * Parses a `.env` or `env_file` file as Compose reads it: `KEY=value` lines (`export ` allowed before), `#`
 * comments (also after an unquoted value, following a space), single-quoted values taken literally, double-quoted
 * ones with `\n`-style escapes and spanning lines, and `${VAR}` interpolation in unquoted and double-quoted values
 * from the file's earlier keys first, then `outer`. A line with a key and no `=` sets nothing.
 */
export function parseDotenv(text: string, outer: Lookup = () => undefined): Map<string, string> {
  const values = new Map<string, string>();
  const lookup: Lookup = (name) => values.get(name) ?? outer(name);
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.replace(/^export\s+/, "");
    const equals = body.indexOf("=");
    if (equals === -1) {
      if (!KEY.test(body)) throw new DotenvProblem(lineNumber, `expected KEY=value, got ${JSON.stringify(line)}`);
      continue;
    }
    const key = body.slice(0, equals).trim();
    if (!KEY.test(key)) throw new DotenvProblem(lineNumber, `${JSON.stringify(key)} is not a variable name`);
    let raw = body.slice(equals + 1).trimStart();
    const quote = raw[0];
    if (quote === "'" || quote === '"') {
      // A quoted value may go on over the next lines until its closing quote.
      let end = closingQuote(raw, quote);
      while (end === -1 && index + 1 < lines.length) {
        index++;
        raw += `\n${lines[index]}`;
        end = closingQuote(raw, quote);
      }
      if (end === -1) throw new DotenvProblem(lineNumber, `the value of ${key} has no closing ${quote}`);
      const inner = raw.slice(1, end);
      values.set(key, quote === "'" ? inner : interpolate(unescapeDoubleQuoted(inner), lookup));
      continue;
    }
    const comment = raw.search(/\s#/);
    if (comment !== -1) raw = raw.slice(0, comment);
    values.set(key, interpolate(raw.trim(), lookup));
  }
  return values;
}

function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(text: string): string {
  // `\$` stays escaped until interpolation has run, so it comes out as a literal `$`.
  return text.replace(/\\(.)/g, (whole, c: string) => (c === "$" ? "$$" : (ESCAPES[c] ?? whole)));
}
