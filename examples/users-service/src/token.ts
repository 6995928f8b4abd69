import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Login tokens in JWT shape (`header.payload.signature`, base64url, HMAC-SHA256 = `HS256`), so any JWT library
 * (an API gateway, jwt.io) can read and verify them with the shared secret. The subject is the user's `userId`,
 * as in the course's service.
 */
export interface TokenClaims {
  /** The user's `userId`. */
  sub: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds. */
  exp: number;
}

const HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

export function signToken(claims: TokenClaims, secret: string): string {
  const payload = base64url(JSON.stringify(claims));
  return `${HEADER}.${payload}.${signature(`${HEADER}.${payload}`, secret)}`;
}

/** The claims of a token signed with `secret` and not expired at `nowSeconds`; `undefined` otherwise. */
export function verifyToken(token: string, secret: string, nowSeconds: number): TokenClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const expected = Buffer.from(signature(`${parts[0]}.${parts[1]}`, secret));
  const actual = Buffer.from(parts[2]!);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  const c = claims as Partial<TokenClaims> | null;
  if (typeof c?.sub !== "string" || typeof c.iat !== "number" || typeof c.exp !== "number") return undefined;
  return c.exp > nowSeconds ? { sub: c.sub, iat: c.iat, exp: c.exp } : undefined;
}

function signature(data: string, secret: string): string {
  return createHmac("sha256", secret).update(data).digest("base64url");
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
