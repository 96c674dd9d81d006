/**
 * Bearer authentication: static API keys and JWTs (jose). Every caller resolves to
 * one tenant and a set of scopes; handlers only ever query that tenant's rows.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { ApiKey } from "../lib/config.ts";
import { TenantIdSchema } from "../lib/schema.ts";
import { base64UrlDecode, constantTimeEqual } from "../lib/encoding.ts";

export const SCOPES = ["insights:read", "metrics:write"] as const;
/**
 * The operator scope: deployment-wide telemetry (GET /metrics). Never granted to a
 * tenant's API key; a JWT may carry it, or the scraper uses METRICS_TOKEN.
 */
export const OPS_SCOPE = "ops:read";
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tenant: string;
  scopes: ReadonlySet<string>;
  kind: "api_key" | "jwt";
  subject?: string;
}

export interface AuthOptions {
  apiKeys: readonly ApiKey[];
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** For tests: a key set instead of fetching `jwksUrl`. */
  jwks?: JWTVerifyGetKey;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

export interface Authenticator {
  /** Resolves a bearer token to a principal, or throws AuthError. */
  authenticate(token: string): Promise<Principal>;
  readonly configured: boolean;
}

const ClaimsSchema = z.object({
  tenant: TenantIdSchema,
  scope: z.union([z.string(), z.array(z.string())]).optional(),
  scp: z.union([z.string(), z.array(z.string())]).optional(),
  sub: z.string().optional(),
});

const encoder = new TextEncoder();

/** How long a verified token is trusted without checking it again. */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKENS_KEPT = 10_000;

/** A JWT's `exp` (seconds), read without verifying: only to bound how long it is remembered. */
function decodeExp(token: string): number | undefined {
  try {
    const payload = JSON.parse(new TextDecoder().decode(base64UrlDecode(token.split(".")[1])));
    return typeof payload.exp === "number" ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function scopesOf(claims: z.infer<typeof ClaimsSchema>): Set<string> {
  const raw = claims.scope ?? claims.scp ?? [];
  return new Set(Array.isArray(raw) ? raw : raw.split(/\s+/).filter(Boolean));
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  // Digests of the configured keys, computed once: each request hashes only its token.
  const keyDigests = Promise.all(
    options.apiKeys.map(async (apiKey) => ({
      tenant: apiKey.tenant,
      digest: await sha256(apiKey.key),
    })),
  );
  const secret = options.jwtSecret ? encoder.encode(options.jwtSecret) : undefined;
  const jwks = options.jwks ??
    (options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined);

  async function fromApiKey(token: string): Promise<Principal | undefined> {
    const digest = await sha256(token);
    let tenant: string | undefined;
    for (const candidate of await keyDigests) {
      if (constantTimeEqual(candidate.digest, digest)) tenant ??= candidate.tenant;
    }
    return tenant === undefined ? undefined : { tenant, scopes: new Set(SCOPES), kind: "api_key" };
  }

  async function fromJwt(token: string): Promise<Principal> {
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ["exp"],
    };
    let payload: JWTPayload;
    try {
      payload = secret
        ? (await jwtVerify(token, secret, { ...verifyOptions, algorithms: ["HS256"] })).payload
        : (await jwtVerify(token, jwks!, {
          ...verifyOptions,
          algorithms: ["RS256", "ES256"],
        })).payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new AuthError(code === "ERR_JWT_EXPIRED" ? "token expired" : "invalid token");
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw new AuthError("token has no valid tenant claim");
    return {
      tenant: claims.data.tenant,
      scopes: scopesOf(claims.data),
      kind: "jwt",
      subject: claims.data.sub,
    };
  }

  async function verify(token: string): Promise<{ principal: Principal; expiresAt?: number }> {
    const byKey = await fromApiKey(token);
    if (byKey) return { principal: byKey };
    const looksLikeJwt = token.split(".").length === 3;
    if (!looksLikeJwt || !(secret || jwks)) throw new AuthError("invalid token");
    const principal = await fromJwt(token);
    const exp = decodeExp(token);
    return { principal, expiresAt: exp === undefined ? undefined : exp * 1000 };
  }

  // Tokens that verified recently are remembered briefly, so a busy client does not pay
  // a digest (API key) or a signature check (JWT) on every request. Failures are not
  // remembered: guessing keeps paying full price.
  const verified = new Map<string, { principal: Principal; until: number }>();
  const now = options.now ?? (() => Date.now());

  return {
    configured: options.apiKeys.length > 0 || Boolean(secret) || Boolean(jwks),
    async authenticate(token: string): Promise<Principal> {
      const remembered = verified.get(token);
      if (remembered && remembered.until > now()) return remembered.principal;
      if (remembered) verified.delete(token);
      const { principal, expiresAt } = await verify(token);
      if (verified.size >= VERIFIED_TOKENS_KEPT) {
        verified.delete(verified.keys().next().value!);
      }
      const until = Math.min(now() + VERIFIED_TOKEN_TTL_MS, expiresAt ?? Infinity);
      verified.set(token, { principal, until });
      return principal;
    },
  };
}

export type AuthVariables = { principal: Principal };

/**
 * A 401 with the Bearer challenge. A request that sent no token gets no error code in
 * the challenge (RFC 6750 §3.1); one that sent a bad or malformed token gets invalid_token.
 */
export function unauthorized(message: string, { tokenSent = true } = {}): Response {
  const challenge = tokenSent
    ? `Bearer realm="campaign-analytics", error="invalid_token"`
    : `Bearer realm="campaign-analytics"`;
  return Response.json({ error: message }, {
    status: 401,
    headers: { "WWW-Authenticate": challenge },
  });
}

/** `Bearer <token68>`; the scheme name is case-insensitive (RFC 7235 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of an `Authorization: Bearer <token>` header, or undefined when malformed. */
export function parseBearerToken(header: string | undefined): string | undefined {
  return BEARER.exec(header?.trim() ?? "")?.[1];
}

/** Requires a valid bearer token; puts the caller's principal on the context. */
export function requireAuth<E extends { Variables: AuthVariables }>(
  authenticator: Authenticator,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const header = c.req.header("Authorization");
    if (!header) {
      return unauthorized("missing bearer token", { tokenSent: false });
    }
    const token = parseBearerToken(header);
    if (!token) return unauthorized("malformed Authorization header: expected 'Bearer <token>'");
    try {
      c.set("principal", await authenticator.authenticate(token));
    } catch (error) {
      if (error instanceof AuthError) return unauthorized(error.message);
      throw error;
    }
    await next();
  };
}

/**
 * Operator-only routes: the configured operator token (compared as digests, in constant
 * time), or any token the authenticator accepts that carries `ops:read` (403 otherwise).
 */
export function requireOperator<E extends { Variables: AuthVariables }>(
  authenticator: Authenticator,
  operatorToken: string | undefined,
): MiddlewareHandler<E> {
  const operatorDigest = operatorToken === undefined ? undefined : sha256(operatorToken);
  const authenticate = requireAuth<E>(authenticator);
  return async (c, next) => {
    const token = parseBearerToken(c.req.header("Authorization"));
    if (token && operatorDigest && constantTimeEqual(await sha256(token), await operatorDigest)) {
      return await next();
    }
    let denied: Response | undefined;
    const answered = await authenticate(c, async () => {
      if (c.get("principal").scopes.has(OPS_SCOPE)) return await next();
      denied = c.json({ error: `this token lacks the scope "${OPS_SCOPE}"`, field: "scope" }, 403);
    });
    return denied ?? answered;
  };
}

/** Requires a scope of the authenticated caller (403 when missing). */
export function requireScope<E extends { Variables: AuthVariables }>(
  scope: Scope,
): MiddlewareHandler<E> {
  return async (c, next) => {
    if (!c.get("principal").scopes.has(scope)) {
      return c.json({ error: `this token lacks the scope "${scope}"`, field: "scope" }, 403);
    }
    await next();
  };
}
