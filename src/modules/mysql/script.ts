/** One statement of a script, with the line it starts on (1-based) for error messages. */
export interface ScriptStatement {
  sql: string;
  line: number;
}

const DELIMITER_LINE = /[ \t]*delimiter[ \t]+(\S+)[ \t]*(?:\r?\n|$)/iy;

/**
 * Splits a `.sql` file into statements the way the `mysql` command-line client does: on the current delimiter
 * (`;`, changed by `DELIMITER` lines, as dumps with triggers and procedures use), never inside quotes, backticks or
 * comments. Comments stay in the statement text (`/*!40101 ... *\/` must reach the server); statements made only of
 * comments and blanks are dropped, since the server rejects empty queries.
 */
export function splitSqlScript(text: string): ScriptStatement[] {
  const statements: ScriptStatement[] = [];
  let delimiter = ";";
  let start = 0;
  let line = 1;
  let startLine: number | undefined; // line of the current statement's first significant character
  let atLineStart = true;
  let i = 0;

  const finish = (end: number) => {
    if (startLine !== undefined) statements.push({ sql: text.slice(start, end).trim(), line: startLine });
    startLine = undefined;
  };

  while (i < text.length) {
    // `DELIMITER x` is a client command: only at the start of a line, and only between statements.
    if (atLineStart && startLine === undefined) {
      DELIMITER_LINE.lastIndex = i;
      const match = DELIMITER_LINE.exec(text);
      if (match) {
        delimiter = match[1]!;
        i = DELIMITER_LINE.lastIndex;
        if (text[i - 1] === "\n") line++;
        start = i;
        continue;
      }
    }
    const ch = text[i]!;
    if (ch === "\n") {
      line++;
      atLineStart = true;
      i++;
      continue;
    }
    atLineStart = false;
    if (ch === " " || ch === "\t" || ch === "\r") {
      i++;
      continue;
    }
    if (ch === "#" || (ch === "-" && text[i + 1] === "-" && (i + 2 >= text.length || /\s/.test(text[i + 2]!)))) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && text[i + 1] === "*") {
      const executable = text[i + 2] === "!" || text[i + 2] === "+";
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      if (executable) startLine ??= line;
      line += countNewlines(text, i, stop);
      i = stop;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      finish(i);
      i += delimiter.length;
      start = i;
      continue;
    }
    startLine ??= line;
    if (ch === "'" || ch === '"' || ch === "`") {
      const stop = skipQuoted(text, i, ch);
      line += countNewlines(text, i, stop);
      i = stop;
      continue;
    }
    i++;
  }
  finish(text.length);
  return statements;
}

/** The index just after the quote that closes the one at `open` (doubled quotes and, except in backticks, backslashes escape). */
function skipQuoted(text: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "\\" && quote !== "`") {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return text.length;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) count++;
  return count;
}
