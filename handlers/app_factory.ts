/**
 * The app factories: dependencies in, a Hono app out. The same app runs under
 * Deno.serve, in tests through `app.request()`, and behind an edge `fetch` handler.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import { secureHeaders } from "hono/secure-headers";
import { isTransientDatabaseError } from "../lib/store/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Registry } from "../lib/telemetry.ts";
import { MissingRateError } from "../lib/fx/convert.ts";
import { RetainedRangeError } from "../lib/store/metrics_store.ts";
import { requireAuth, requireOperator, requireScope } from "./auth.ts";
import { type AppDeps, type AppEnv, httpMetrics } from "./context.ts";
import { registerOpsRoutes } from "./health.ts";
import { registerInsightsRoutes } from "./insights.ts";
import { registerCampaignRoutes } from "./campaigns.ts";
import { MCP_OPERATION, registerMcpRoute } from "./mcp.ts";
import { registerSessionRoutes, sessionAuth } from "./session.ts";
import { BadRequest, NotFound } from "./params.ts";
import { API_OPERATIONS } from "./api_operations.ts";
import type { Operation } from "./openapi.ts";

export const API_VERSION = "0.1.0";

/**
 * Routes without bearer auth: probes, the API description, and Slack's slash command
 * (Slack signs its requests instead; handlers/slack_command.ts verifies the signature).
 */
const PUBLIC_PATHS = new Set(["/healthz", "/readyz", "/openapi.json", "/docs", "/slack/command"]);
/** The dashboard page, its files and its sign-in: the page authenticates itself. */
const DASHBOARD_PUBLIC_PATHS = new Set(["/", "/favicon.ico", "/session"]);
const isPublic = (path: string) =>
  PUBLIC_PATHS.has(path) || DASHBOARD_PUBLIC_PATHS.has(path) || path.startsWith("/assets/");

/** Seconds a client should wait before retrying while the database is down. */
const RETRY_AFTER_SECONDS = 5;

export interface AppExtension {
  /** Registers more routes (ingestion push, bot, Slack) on the authenticated app. */
  register(app: Hono<AppEnv>, deps: AppDeps): void;
  operations?: readonly Operation[];
}

export interface HttpAppOptions {
  logger: Logger;
  /** Receives request counts and latencies by route. */
  telemetry: Registry;
  maxBodyBytes: number;
  corsOrigins?: readonly string[];
}

/**
 * What every app of this project shares (the API and the standalone bot): request ids,
 * request logs and metrics, security headers, CORS, the body limit, and JSON answers
 * for unknown routes and errors.
 */
export function createHttpApp(options: HttpAppOptions): Hono<AppEnv> {
  const { logger, telemetry, maxBodyBytes, corsOrigins = [] } = options;
  const app = new Hono<AppEnv>();
  const { requests, latency } = httpMetrics(telemetry);

  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    const matched = routePath(c, -1);
    const route = matched && !matched.endsWith("*") ? matched : "unmatched";
    requests.inc({ route, method: c.req.method, status: c.res.status });
    latency.observe(ms / 1000, { route });
    const fields = {
      request_id: c.get("requestId"),
      method: c.req.method,
      route,
      status: c.res.status,
      ms: Math.round(ms * 100) / 100,
      tenant: c.get("principal")?.tenant,
    };
    // The hand-formatted line where the logger has one (no redaction pass: none of
    // these fields can hold a secret), else the same object through info().
    if (logger.access) logger.access(fields);
    else logger.info("request", fields);
  });
  app.use(secureHeaders());
  if (corsOrigins.length > 0) {
    app.use(cors({
      origin: corsOrigins.includes("*") ? "*" : [...corsOrigins],
      allowHeaders: ["Authorization", "Content-Type"],
      allowMethods: ["GET", "POST", "OPTIONS"],
      maxAge: 600,
    }));
  }
  app.use(bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => c.json({ error: `body larger than ${maxBodyBytes} bytes`, field: "body" }, 413),
  }));

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof BadRequest) {
      return c.json({ error: error.message, field: error.field }, 400);
    }
    if (error instanceof NotFound) {
      return c.json({ error: error.message, field: error.field }, 404);
    }
    if (error instanceof MissingRateError || error instanceof RetainedRangeError) {
      return c.json({ error: error.message, field: error.field }, 422);
    }
    if (isTransientDatabaseError(error)) {
      logger.warn("database unavailable", { request_id: c.get("requestId"), error });
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      return c.json({ error: "database unavailable, retry later" }, 503);
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      error: error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error),
    });
    // Never a stack trace or SQL text to the client: the request id finds it in the logs.
    return c.json({ error: "internal error", request_id: c.get("requestId") }, 500);
  });
  return app;
}

/** The API: the shared app plus bearer auth, the insights routes and `extensions`. */
export function createApp(deps: AppDeps, extensions: readonly AppExtension[] = []): Hono<AppEnv> {
  const app = createHttpApp(deps);

  const authenticate = requireAuth<AppEnv>(deps.authenticator);
  const operator = requireOperator<AppEnv>(deps.authenticator, deps.metricsToken);
  // A browser session (cookie) instead of a bearer token, when the request carries one.
  const bySession = deps.sessions ? sessionAuth<AppEnv>(deps.sessions) : () => undefined;
  app.use(async (c, next) => {
    if (isPublic(c.req.path) || c.req.method === "OPTIONS") return await next();
    // Prometheus metrics are deployment-wide: operators only (POST /metrics is a push).
    if (c.req.path === "/metrics" && c.req.method === "GET") return await operator(c, next);
    return await (bySession(c) ?? authenticate)(c, next);
  });
  if (deps.sessions) registerSessionRoutes(app, deps.authenticator, deps.sessions);
  app.use("/campaign/*", requireScope<AppEnv>("insights:read"));
  app.use("/campaigns", requireScope<AppEnv>("insights:read"));
  app.use("/insights", requireScope<AppEnv>("insights:read"));

  registerInsightsRoutes(app, deps);
  registerCampaignRoutes(app, deps);
  for (const extension of extensions) extension.register(app, deps);
  // MCP for agents: its tools ask the routes above, in process, as the caller.
  registerMcpRoute(app, deps, API_VERSION);
  const operations = [
    ...API_OPERATIONS,
    ...extensions.flatMap((e) => e.operations ?? []),
    MCP_OPERATION,
  ];
  registerOpsRoutes(app, deps, () => operations, API_VERSION);

  return app;
}
