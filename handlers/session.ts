/**
 * Browser sessions for the dashboard. `POST /session` takes an API key or a JWT, checks
 * it with the API's own authenticator and answers with a short-lived signed cookie
 * (HttpOnly, SameSite=Strict, Secure behind HTTPS) that carries the tenant and scopes:
 * the page never holds the token itself. `DELETE /session` signs out.
 *
 * With the cookie the API answers reads; a request that changes something must also
 * come from the page's own origin (`Origin` header), so another site cannot make a
 * signed-in browser post on its behalf.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { TenantIdSchema } from "../lib/schema.ts";
import {
  type Authenticator,
  AuthError,
  type AuthVariables,
  type Principal,
  unauthorized,
} from "./auth.ts";

export const SESSION_COOKIE = "ca_session";
/** A session lasts at most this long, and never longer than the JWT it was made from. */
export const SESSION_TTL_SECONDS = 3600;
const SESSION_TYPE = "ca-session+jwt";
const AUDIENCE = "campaign-analytics-dashboard";

const SessionClaimsSchema = z.object({
  tenant: TenantIdSchema,
  scope: z.array(z.string()),
  kind: z.enum(["api_key", "jwt"]),
  sub: z.string().optional(),
  exp: z.number(),
});

export const SessionRequestSchema = z.object({
  token: z.string().trim().min(1, "token is required").max(8192, "token is too long"),
});

export interface SessionInfo {
  tenant: string;
  scopes: string[];
  expires_at: string;
}

export interface Sessions {
  /** A signed session token for a verified principal. */
  issue(principal: Principal, tokenExpiresAt?: number): Promise<{ token: string; exp: number }>;
  /** The principal and expiry of a session token, or throws AuthError. */
  verify(token: string): Promise<{ principal: Principal; exp: number }>;
}

export interface SessionOptions {
  /**
   * Key material shared by every replica (the configured credentials): sessions then
   * work across replicas and end when the credentials change. Without it a random key
   * of this process signs them.
   */
  secret?: string;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

const encoder = new TextEncoder();

async function signingKey(secret: string | undefined): Promise<Uint8Array> {
  if (!secret) return crypto.getRandomValues(new Uint8Array(32));
  // A key of its own, derived from the material: a session is not a valid API JWT.
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(`campaign-analytics/session/v1\u0000${secret}`),
  );
  return new Uint8Array(digest);
}

export function createSessions(options: SessionOptions = {}): Sessions {
  const key = signingKey(options.secret);
  const now = options.now ?? (() => Date.now());
  return {
    async issue(principal, tokenExpiresAt) {
      const exp = Math.floor(
        Math.min(now() + SESSION_TTL_SECONDS * 1000, tokenExpiresAt ?? Infinity) / 1000,
      );
      const token = await new SignJWT({
        tenant: principal.tenant,
        scope: [...principal.scopes],
        kind: principal.kind,
        ...(principal.subject ? { sub: principal.subject } : {}),
      })
        .setProtectedHeader({ alg: "HS256", typ: SESSION_TYPE })
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now() / 1000))
        .setExpirationTime(exp)
        .sign(await key);
      return { token, exp };
    },
    async verify(token) {
      let payload: unknown;
      try {
        payload = (await jwtVerify(token, await key, {
          algorithms: ["HS256"],
          audience: AUDIENCE,
          typ: SESSION_TYPE,
          currentDate: new Date(now()),
        })).payload;
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw new AuthError(code === "ERR_JWT_EXPIRED" ? "session expired" : "invalid session");
      }
      const claims = SessionClaimsSchema.safeParse(payload);
      if (!claims.success) throw new AuthError("invalid session");
      return {
        principal: {
          tenant: claims.data.tenant,
          scopes: new Set(claims.data.scope),
          kind: claims.data.kind,
          subject: claims.data.sub,
        },
        exp: claims.data.exp,
      };
    },
  };
}

/** True when a bearer token is one of our session tokens (decoded, not verified). */
export function isSessionToken(token: string): boolean {
  // A JWS in compact form has exactly two dots. Checked first because API keys are the
  // common bearer: decoding one throws, and that exception cost ~8% of a cached read.
  const firstDot = token.indexOf(".");
  const lastDot = token.lastIndexOf(".");
  if (firstDot < 0 || firstDot === lastDot || token.indexOf(".", firstDot + 1) !== lastDot) {
    return false;
  }
  try {
    return decodeProtectedHeader(token).typ === SESSION_TYPE;
  } catch {
    return false;
  }
}

const BEARER_TOKEN = /^Bearer +(\S+)$/i;

/** The session token of a request: its cookie, else a session token sent as bearer. */
export function sessionToken(c: Context): string | undefined {
  const bearer = BEARER_TOKEN.exec(c.req.header("Authorization")?.trim() ?? "")?.[1];
  if (bearer !== undefined) return isSessionToken(bearer) ? bearer : undefined;
  return getCookie(c, SESSION_COOKIE) || undefined;
}

/** The origin the browser shows for this request (behind a proxy: the forwarded one). */
function requestOrigin(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header("X-Forwarded-Proto")?.split(",")[0].trim() ||
    url.protocol.slice(0, -1);
  const host = c.req.header("X-Forwarded-Host")?.split(",")[0].trim() ||
    c.req.header("Host") || url.host;
  return `${proto}://${host}`;
}

/** Same-origin check for requests that act with the cookie and change something. */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header("Origin");
  return origin !== undefined && origin === requestOrigin(c);
}

function isHttps(c: Context): boolean {
  return requestOrigin(c).startsWith("https:");
}

const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * Authentication by session, for requests that carry one (see `sessionToken`); returns
 * undefined for the others, which the bearer middleware handles.
 */
export function sessionAuth<E extends { Variables: AuthVariables }>(
  sessions: Sessions,
): (c: Context<E>) => MiddlewareHandler<E> | undefined {
  return (c) => {
    const token = sessionToken(c);
    if (token === undefined) return undefined;
    return async (c, next) => {
      const fromCookie = !c.req.header("Authorization");
      // A session passed as bearer only comes from inside the app (the bot reading on
      // the caller's behalf): reads only.
      if (!fromCookie && !READ_METHODS.has(c.req.method)) {
        return unauthorized("a session token is not accepted here");
      }
      if (fromCookie && !READ_METHODS.has(c.req.method) && !sameOrigin(c)) {
        return c.json({ error: "cross-origin request refused", field: "Origin" }, 403);
      }
      try {
        c.set("principal", (await sessions.verify(token)).principal);
      } catch (error) {
        if (error instanceof AuthError) return unauthorized(error.message);
        throw error;
      }
      await next();
    };
  };
}

function info(principal: Principal, exp: number): SessionInfo {
  return {
    tenant: principal.tenant,
    scopes: [...principal.scopes].sort(),
    expires_at: new Date(exp * 1000).toISOString(),
  };
}

/** `POST /session`, `GET /session` (who am I) and `DELETE /session` (sign out). */
export function registerSessionRoutes<E extends { Variables: AuthVariables }>(
  app: Hono<E>,
  authenticator: Authenticator,
  sessions: Sessions,
): void {
  app.post("/session", async (c) => {
    // A browser always says where a POST comes from; another site may not sign it in.
    if (c.req.header("Origin") !== undefined && !sameOrigin(c)) {
      return c.json({ error: "cross-origin request refused", field: "Origin" }, 403);
    }
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json(
        { error: 'body is not valid JSON: send {"token": "..."}', field: "token" },
        400,
      );
    }
    const parsed = SessionRequestSchema.safeParse(body);
    if (!parsed.success) {
      return c.json({ error: parsed.error.issues[0].message, field: "token" }, 400);
    }
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(parsed.data.token);
    } catch (error) {
      if (error instanceof AuthError) {
        return c.json({ error: `sign-in failed: ${error.message}`, field: "token" }, 401);
      }
      throw error;
    }
    const tokenExp = decodeJwtExp(parsed.data.token);
    const session = await sessions.issue(principal, tokenExp);
    setCookie(c, SESSION_COOKIE, session.token, {
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
      secure: isHttps(c),
      maxAge: Math.max(1, session.exp - Math.floor(Date.now() / 1000)),
    });
    c.header("Cache-Control", "no-store");
    return c.json({ signed_in: true, ...info(principal, session.exp) });
  });

  // Answers 200 either way: the page asks this on every load, and "not signed in" is an
  // answer, not an error.
  app.get("/session", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    c.header("Cache-Control", "no-store");
    if (!token) return c.json({ signed_in: false, reason: "no session" });
    try {
      const { principal, exp } = await sessions.verify(token);
      return c.json({ signed_in: true, ...info(principal, exp) });
    } catch (error) {
      if (error instanceof AuthError) return c.json({ signed_in: false, reason: error.message });
      throw error;
    }
  });

  app.delete("/session", (c) => {
    if (getCookie(c, SESSION_COOKIE) && !sameOrigin(c)) {
      return c.json({ error: "cross-origin request refused", field: "Origin" }, 403);
    }
    deleteCookie(c, SESSION_COOKIE, {
      path: "/",
      httpOnly: true,
      sameSite: "Strict",
      secure: isHttps(c),
    });
    return c.body(null, 204);
  });
}

/** A JWT's `exp` in milliseconds (already verified by the authenticator), if any. */
function decodeJwtExp(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
