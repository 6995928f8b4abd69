import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Config } from "./config.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { DuplicateEmailError, type UserStore } from "./store.js";
import { signToken } from "./token.js";
import { describeFields, validateCredentials, validateNewUser } from "./validation.js";

export interface AppOptions {
  store: UserStore;
  config: Pick<Config, "port" | "token" | "greeting">;
  /** One line per request and per unexpected error. Default: nothing. */
  log?: (line: string) => void;
  /** Epoch ms; tests pin it. Default `Date.now`. */
  now?: () => number;
}

/** Bodies larger than this are refused with 413: no request of this API comes close. */
const MAX_BODY_BYTES = 64 * 1024;
const HEALTH_TIMEOUT_MS = 2000;

/** Sent as is: the status and a message the client can show. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

type Handler = (request: IncomingMessage, response: ServerResponse, params: string[]) => Promise<void>;

/**
 * The users API on plain `node:http`. Paths are the course's service-level ones; the API gateway's `/user-service`
 * prefix is accepted too, so both `GET /users` and `GET /user-service/users` work.
 */
export function createApp(options: AppOptions): Server {
  const { store, config } = options;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  // Compared against for unknown emails, so a login takes as long whether or not the account exists.
  let decoyHash: Promise<string> | undefined;

  const routes: { pattern: RegExp; methods: Record<string, Handler> }[] = [
    {
      pattern: /^\/(?:health_check|health-check)$/,
      methods: {
        GET: async (_request, response) => {
          try {
            await withTimeout(store.ping(), HEALTH_TIMEOUT_MS, "the database did not answer within 2000 ms");
          } catch (error) {
            throw new HttpError(503, `database unavailable: ${(error as Error).message}`);
          }
          sendText(response, 200, `It's Working in User Service, port=${config.port}, message=${config.greeting}`);
        },
      },
    },
    {
      pattern: /^\/welcome$/,
      methods: { GET: async (_request, response) => sendText(response, 200, config.greeting) },
    },
    {
      pattern: /^\/users$/,
      methods: {
        GET: async (_request, response) => sendJson(response, 200, await store.list()),
        POST: async (request, response) => {
          const checked = validateNewUser(await readJsonObject(request));
          if (!checked.ok) throw new HttpError(400, `invalid user: ${describeFields(checked.fields)}`, { fields: checked.fields });
          const { email, name, pwd } = checked.value;
          const userId = randomUUID();
          try {
            await store.create({ userId, email, name, encryptedPwd: await hashPassword(pwd) });
          } catch (error) {
            if (error instanceof DuplicateEmailError) throw new HttpError(409, error.message);
            throw error;
          }
          sendJson(response, 201, { email, name, userId }, { Location: `/users/${userId}` });
        },
      },
    },
    {
      pattern: /^\/users\/([^/]+)$/,
      methods: {
        GET: async (_request, response, [userId]) => {
          const user = await store.findByUserId(userId!);
          if (!user) throw new HttpError(404, `no user with userId ${userId}`);
          // Orders lived in the course's order-service; this example has none, so the list is always empty.
          sendJson(response, 200, { ...user, orders: [] });
        },
      },
    },
    {
      pattern: /^\/login$/,
      methods: {
        POST: async (request, response) => {
          const checked = validateCredentials(await readJsonObject(request));
          if (!checked.ok) throw new HttpError(400, `invalid login: ${describeFields(checked.fields)}`, { fields: checked.fields });
          const { email, password } = checked.value;
          const found = await store.findCredentials(email);
          decoyHash ??= hashPassword("not the password of anyone");
          const matches = await verifyPassword(password, found?.encryptedPwd ?? (await decoyHash));
          if (!found || !matches) {
            // One answer for both cases: which emails have accounts is nobody's business.
            throw new HttpError(401, "wrong email or password", {}, { "WWW-Authenticate": 'Bearer realm="users-service"' });
          }
          const issuedAt = Math.floor(now() / 1000);
          const expiresAt = issuedAt + Math.floor(config.token.expirationMs / 1000);
          const token = signToken({ sub: found.userId, iat: issuedAt, exp: expiresAt }, config.token.secret);
          // Headers as the course's login filter sent them, and the same in the body for clients that prefer JSON.
          sendJson(
            response,
            200,
            { token, userId: found.userId, expiresAt: new Date(expiresAt * 1000).toISOString() },
            { token, userId: found.userId },
          );
        },
      },
    },
  ];

  return createServer((request, response) => {
    const started = now();
    const path = routePath(request.url ?? "/");
    response.on("finish", () => log(`${request.method} ${request.url} ${response.statusCode} ${now() - started}ms`));
    const handle = async () => {
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        const method = request.method === "HEAD" ? "GET" : (request.method ?? "GET");
        const handler = route.methods[method];
        if (!handler) {
          const allowed = Object.keys(route.methods).join(", ");
          throw new HttpError(405, `${request.method} is not allowed on ${path} (allowed: ${allowed})`, {}, { Allow: allowed });
        }
        return handler(request, response, match.slice(1).map(decodeSegment));
      }
      throw new HttpError(404, `no route for ${request.method} ${path}`);
    };
    handle().catch((error: unknown) => {
      if (!(error instanceof HttpError)) log(`error on ${request.method} ${request.url}: ${(error as Error)?.stack ?? String(error)}`);
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : "internal error (see the service's log)";
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const extra = error instanceof HttpError ? error.extra : {};
      const headers = error instanceof HttpError ? error.headers : {};
      sendJson(
        response,
        status,
        { timestamp: new Date(now()).toISOString(), status, error: REASONS[status] ?? "Error", message, path, ...extra },
        headers,
      );
    });
  });
}

/** The path without query, trailing slash and the gateway's `/user-service` prefix. */
function routePath(url: string): string {
  let path = url.split("?", 1)[0]!;
  if (path === "/user-service" || path.startsWith("/user-service/")) path = path.slice("/user-service".length) || "/";
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed path segment ${JSON.stringify(segment)}`);
  }
}

async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const type = request.headers["content-type"];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, `send the body as JSON with Content-Type: application/json (got ${type})`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, text.trim() === "" ? "request body is empty: send a JSON object" : "request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "request body must be a JSON object");
  return body as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
