/**
 * Variable interpolation as Compose does it, in every string value of a compose file (keys are left alone):
 * `$$` is a literal `$`; `$VAR` and `${VAR}` substitute (an unset variable gives `""` and a warning);
 * `${VAR:-default}` / `${VAR-default}` default when VAR is unset or empty / unset; `${VAR:?error}` /
 * `${VAR?error}` fail when VAR is unset or empty / unset; `${VAR:+alt}` / `${VAR+alt}` give alt when VAR is set
 * and non-empty / set. Defaults and alternatives may themselves hold `${...}`. Any other `$` is an error, as in
 * Compose.
 */

export type Lookup = (name: string) => string | undefined;

/** An interpolation problem; the caller adds the file, key and line. */
export class InterpolationProblem extends Error {}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;

/** Interpolates one string; `onUnset` hears each variable that was unset and had no default. */
export function interpolate(text: string, lookup: Lookup, onUnset: (name: string) => void = () => {}): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const end = closingBrace(text, dollar + 2);
      if (end === -1) throw new InterpolationProblem(`invalid interpolation format in ${JSON.stringify(text)}: \`\${\` without \`}\``);
      out += braced(text.slice(dollar + 2, end), text, lookup, onUnset);
      i = end + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = dollar + 2;
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
      const name = text.slice(dollar + 1, end);
      const value = lookup(name);
      if (value === undefined) onUnset(name);
      out += value ?? "";
      i = end;
    } else {
      throw new InterpolationProblem(
        `invalid interpolation format in ${JSON.stringify(text)}: a \`$\` must start \`$VAR\`, \`\${VAR}\` or be doubled (\`$$\`) for a literal one`,
      );
    }
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, skipping nested `${...}`; -1 when none. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "$" && text[i + 1] === "$") i++;
    else if (c === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function braced(body: string, whole: string, lookup: Lookup, onUnset: (name: string) => void): string {
  let end = 0;
  while (end < body.length && (end === 0 ? NAME_START : NAME_CHAR).test(body[end]!)) end++;
  const name = body.slice(0, end);
  const rest = body.slice(end);
  if (name === "")
    throw new InterpolationProblem(`invalid interpolation format in ${JSON.stringify(whole)}: \`\${${body}}\` names no variable`);
  const value = lookup(name);
  if (rest === "") {
    if (value === undefined) onUnset(name);
    return value ?? "";
  }
  const operator = /^(:?[-?+])/.exec(rest)?.[1];
  if (!operator) throw new InterpolationProblem(`invalid interpolation format in ${JSON.stringify(whole)}: \`\${${body}}\``);
  const argument = rest.slice(operator.length);
  const emptyCounts = operator.startsWith(":");
  const missing = value === undefined || (emptyCounts && value === "");
  switch (operator.at(-1)) {
    case "-":
      return missing ? interpolate(argument, lookup, onUnset) : value!;
    case "+":
      return missing ? "" : interpolate(argument, lookup, onUnset);
    default: {
      if (!missing) return value!;
      const message = interpolate(argument, lookup, onUnset);
      throw new InterpolationProblem(`required variable ${name} is missing a value${message ? `: ${message}` : ""}`);
    }
  }
}
