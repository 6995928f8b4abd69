import type { RegistryAuth } from "./types.js";

/** The forms a credential can be echoed in: as sent, and as the base64 `user:password` of a config's `auth`. */
function secretsOf(auth: RegistryAuth | undefined): string[] {
  if (!auth) return [];
  const secrets = [auth.password, auth.identitytoken];
  if (auth.username && auth.password) secrets.push(Buffer.from(`${auth.username}:${auth.password}`).toString("base64"));
  // Shorter ones would mask ordinary words; a 1-2 character password is no secret worth the mangled message.
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= 3);
}

/** Never let a secret reach a message: registries and proxies have been known to echo what they were sent. */
export function scrubSecrets(text: string, auth: RegistryAuth | undefined): string {
  let out = text;
  for (const secret of secretsOf(auth)) out = out.split(secret).join("***");
  return out;
}

/**
 * The cause to attach to an error: the engine's error as is, unless it holds a secret somewhere (message, response
 * body); then a plain error with the scrubbed text and the status, since consoles print causes in full.
 */
export function scrubCause(cause: unknown, auth: RegistryAuth | undefined): unknown {
  const secrets = secretsOf(auth);
  if (secrets.length === 0 || cause === undefined) return cause;
  let text: string;
  try {
    text = `${(cause as Error)?.message ?? ""}${JSON.stringify(cause) ?? ""}`;
  } catch {
    text = String(cause);
  }
  if (!secrets.some((s) => text.includes(s))) return cause;
  const clean = new Error(scrubSecrets(String((cause as Error)?.message ?? cause), auth));
  const status = (cause as { statusCode?: unknown })?.statusCode;
  return typeof status === "number" ? Object.assign(clean, { statusCode: status }) : clean;
}
