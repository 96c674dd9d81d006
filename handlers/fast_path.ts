/**
 * The fast path of cached insights reads, in front of Hono: `GET /campaign/:id/insights`
 * and `GET /insights` with a bearer token (API key or JWT) take the same steps as the
 * routed request, without the router and the middleware chain, and answer with the same
 * response: status, body and every header (security headers, request id, content type).
 *
 * It serves only what it can answer exactly as the Hono path does. Everything else falls
 * through to Hono untouched, which then answers as it always has: other routes and
 * methods, no or a malformed Authorization header (cookie sessions included), session
 * tokens sent as bearer, a request body, percent-encoded paths, a token the
 * authenticator refuses, a missing scope, invalid parameters (the 400 naming the field),
 * and any error while reading (404 of an unknown campaign, 422, 503, ...). A request
 * that falls through has done nothing visible yet: no log line, no metric, no answer.
 * With CORS configured (CORS_ORIGINS) there is no fast path: CORS headers depend on the
 * request's Origin.
 *
 * Reads go through the same `deps.cache.readJson` with the same key and computation
 * (handlers/insights.ts), so the freshness rule is the cache's: the tenant's data version
 * is read from the cache for every request. The access log line and the request metrics
 * are written as the Hono middleware writes them (same fields, same series).
 */
import type { AppDeps } from "./context.ts";
import { httpMetrics } from "./context.ts";
import { parseBearerToken } from "./auth.ts";
import { isSessionToken } from "./session.ts";
import { campaignInsightsPlan, type InsightsPlan, insightsPlan, queryTextOf } from "./insights.ts";

/**
 * The headers Hono's `secureHeaders()` (default options) sets on every answer, as
 * handlers/app_factory.ts configures it. tests/handlers/fast_path_test.ts compares whole
 * responses of both paths, so a change there that is not made here fails that test.
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["cross-origin-resource-policy", "same-origin"],
  ["cross-origin-opener-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "no-referrer"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "SAMEORIGIN"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

/** A request the fast path answered, or undefined: hand it to Hono. */
export type FastPath = (request: Request) => Promise<Response | undefined> | undefined;

const SCOPE = "insights:read";
/** Plans kept per path and query (the parsed queries behind them are cached likewise). */
const PLANS_KEPT = 1024;
/** What Hono's requestId() accepts from a client (else it makes a UUID). */
const CLIENT_REQUEST_ID = /[^\w\-=]/;

interface Route {
  pattern: string;
  plan(path: string, queryText: string): InsightsPlan;
  /** Metrics of a 200 of this route, labels rendered once. */
  served: () => void;
  latency: (seconds: number) => void;
}

/** The fast path over the app's dependencies, or undefined when it cannot apply. */
export function createFastPath(deps: AppDeps): FastPath | undefined {
  if (deps.corsOrigins.length > 0) return undefined;
  const { authenticator, cache, logger } = deps;
  const sessions = deps.sessions !== undefined;
  const { requests, latency } = httpMetrics(deps.telemetry);
  const route = (pattern: string, plan: Route["plan"]): Route => ({
    pattern,
    plan,
    served: requests.bind({ route: pattern, method: "GET", status: 200 }),
    latency: latency.bind({ route: pattern }),
  });
  const campaign = route(
    "/campaign/:id/insights",
    (path, queryText) => campaignInsightsPlan(deps, path.slice(10, -9), queryText),
  );
  const insights = route("/insights", (_path, queryText) => insightsPlan(deps, queryText));
  const plans = new Map<string, InsightsPlan>();
  const access = logger.access?.bind(logger) ??
    ((fields: Record<string, unknown>) => logger.info("request", fields));

  function planFor(route: Route, target: string, path: string, queryText: string) {
    let plan = plans.get(target);
    if (plan === undefined) {
      plan = route.plan(path, queryText); // throws on invalid parameters: Hono answers
      if (plans.size >= PLANS_KEPT) plans.delete(plans.keys().next().value!);
      plans.set(target, plan);
    }
    return plan;
  }

  async function serve(
    request: Request,
    route: Route,
    token: string,
    target: string,
    path: string,
  ): Promise<Response | undefined> {
    const started = performance.now();
    let body: string;
    let tenant: string;
    try {
      const principal = await authenticator.authenticate(token);
      if (!principal.scopes.has(SCOPE)) return undefined;
      tenant = principal.tenant;
      const plan = planFor(route, target, path, queryTextOf(target));
      body = await cache.readJson(tenant, plan.key, () => plan.compute(tenant));
    } catch {
      // Refused token, bad parameter, unknown campaign, database down, ...: the Hono
      // path does it all again and answers as it always does.
      return undefined;
    }
    let requestId = request.headers.get("x-request-id");
    if (!requestId || requestId.length > 255 || CLIENT_REQUEST_ID.test(requestId)) {
      requestId = crypto.randomUUID();
    }
    // Headers appended one by one: about 5× cheaper here than a headers init, which Deno
    // converts through WebIDL (a sequence or record of ByteStrings) entry by entry.
    const response = new Response(body, { status: 200 });
    const headers = response.headers;
    headers.set("content-type", "application/json");
    headers.append("x-request-id", requestId);
    for (let i = 0; i < SECURITY_HEADERS.length; i++) {
      headers.append(SECURITY_HEADERS[i][0], SECURITY_HEADERS[i][1]);
    }
    const ms = performance.now() - started;
    route.served();
    route.latency(ms / 1000);
    access({
      request_id: requestId,
      method: "GET",
      route: route.pattern,
      status: 200,
      ms: Math.round(ms * 100) / 100,
      tenant,
    });
    return response;
  }

  return (request) => {
    if (request.method !== "GET") return undefined;
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    if (pathStart < 0 || url.includes("#", pathStart)) return undefined;
    const queryStart = url.indexOf("?", pathStart);
    const path = queryStart < 0 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    if (path.includes("%")) return undefined; // Hono decodes such paths: let it
    let route: Route;
    if (path === "/insights") route = insights;
    else if (
      path.startsWith("/campaign/") && path.endsWith("/insights") && path.length > 19 &&
      path.indexOf("/", 10) === path.length - 9
    ) route = campaign;
    else return undefined;
    const headers = request.headers;
    // A body (Hono's limit applies) or no bearer token (a cookie session, a 401): Hono.
    if (headers.has("content-length") || headers.has("transfer-encoding")) return undefined;
    const token = parseBearerToken(headers.get("authorization") ?? undefined);
    if (token === undefined) return undefined;
    if (sessions && isSessionToken(token)) return undefined;
    return serve(request, route, token, url.slice(pathStart), path);
  };
}

/**
 * `app.fetch` behind the fast path: what the fast path does not answer goes to Hono as
 * it came. Without a fast path (CORS configured), `app.fetch` itself.
 */
export function withFastPath(
  deps: AppDeps,
  fetch: (request: Request) => Response | Promise<Response>,
  options: { enabled?: boolean } = {},
): (request: Request) => Response | Promise<Response> {
  const fast = options.enabled === false ? undefined : createFastPath(deps);
  if (fast === undefined) return (request) => fetch(request);
  return (request) => {
    const attempt = fast(request);
    if (attempt === undefined) return fetch(request);
    return attempt.then((response) => response ?? fetch(request));
  };
}
