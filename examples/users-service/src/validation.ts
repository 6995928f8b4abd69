/**
 * Request validation. The course declared these rules on its request classes but never enforced them (no
 * `@Valid`); this service does, and answers 400 with every problem at once, per field.
 */

export interface NewUser {
  email: string;
  name: string;
  pwd: string;
}

export interface Credentials {
  email: string;
  password: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; fields: Record<string, string> };

/** Column widths of the `users` table: longer values would fail in MySQL, so they fail here, with a reason. */
export const LIMITS = { email: 50, name: 50, passwordMin: 8, passwordMax: 1024 } as const;

// Deliberately loose (one @, a dot in the domain, no spaces): stricter patterns reject real addresses.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateNewUser(body: unknown): Validated<NewUser> {
  const input = asObject(body);
  const fields: Record<string, string> = {};
  const email = checkEmail(input.email, fields);
  const name = text(input.name);
  if (name === undefined) fields.name = "is required (a string)";
  else if (name.length < 2) fields.name = "must be at least 2 characters";
  else if (name.length > LIMITS.name) fields.name = `must be at most ${LIMITS.name} characters`;
  const pwd = input.pwd;
  if (typeof pwd !== "string") fields.pwd = "is required (a string)";
  else if (pwd.length < LIMITS.passwordMin) fields.pwd = `must be at least ${LIMITS.passwordMin} characters`;
  else if (pwd.length > LIMITS.passwordMax) fields.pwd = `must be at most ${LIMITS.passwordMax} characters`;
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, value: { email: email!, name: name!, pwd: pwd as string } };
}

/**
 * Only the shape is checked: a password too short to exist is simply wrong (401), so the answer does not tell a
 * caller which rule an account's password follows.
 */
export function validateCredentials(body: unknown): Validated<Credentials> {
  const input = asObject(body);
  const fields: Record<string, string> = {};
  const email = text(input.email);
  if (email === undefined || email === "") fields.email = "is required (a string)";
  if (typeof input.password !== "string" || input.password === "") fields.password = "is required (a string)";
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, value: { email: email!, password: input.password as string } };
}

/** `email must be a valid email address; pwd must be at least 8 characters`. */
export function describeFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([field, problem]) => `${field} ${problem}`)
    .join("; ");
}

function checkEmail(value: unknown, fields: Record<string, string>): string | undefined {
  const email = text(value);
  if (email === undefined) fields.email = "is required (a string)";
  else if (email.length > LIMITS.email) fields.email = `must be at most ${LIMITS.email} characters`;
  else if (!EMAIL.test(email)) fields.email = "must be a valid email address";
  return email;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value.trim() : undefined;
}

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
