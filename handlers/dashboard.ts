/**
 * The dashboard: the page at `/`, its files under `/assets/` (versioned, immutable,
 * gzip), live updates (handlers/live.ts) and the read route the Sources view needs
 * beyond `/sources`: the rows ingestion rejected, with the reason.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { requireScope } from "./auth.ts";
import type { AppEnv } from "./context.ts";
import type { AppExtension } from "./app_factory.ts";
import { type LiveVersions, registerLiveRoutes } from "./live.ts";
import type { Operation } from "./openapi.ts";
import { parseQuery } from "./params.ts";
import { SessionRequestSchema } from "./session.ts";
import { DASHBOARD_HTML, gzipOnce, WEB_ASSETS } from "./web_assets.ts";

/**
 * The page runs only its own files: no inline script or style markup, no other origin.
 * (uPlot styles elements through the CSSOM, which `style-src 'self'` allows.)
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const IMMUTABLE = "public, max-age=31536000, immutable";

export const RejectSchema = z.object({
  source: z.string(),
  row_index: z.number(),
  field: z.string(),
  reason: z.string(),
  received_at: z.string().nullable(),
  payload: z.unknown(),
});
export type Reject = z.infer<typeof RejectSchema>;

export const RejectsResponse = z.object({ rejects: z.array(RejectSchema) });

export const RejectsQuery = z.object({
  limit: z.coerce.number({ error: "expected an integer" }).int("expected an integer")
    .min(1, "must be at least 1").max(500, "must be at most 500").default(50),
});

export interface DashboardDeps {
  versions: LiveVersions;
  /** The tenant's most recent dead-lettered rows, newest first. */
  recentRejects: (tenant: string, limit: number) => Promise<Reject[]>;
}

async function sendText(
  c: Context,
  key: string,
  text: string,
  headers: Record<string, string>,
): Promise<Response> {
  const gzip = /\bgzip\b/.test(c.req.header("Accept-Encoding") ?? "");
  const common = { ...headers, Vary: "Accept-Encoding" };
  if (!gzip) return c.body(text, 200, common);
  const bytes = await gzipOnce(key, text);
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    ...common,
    "Content-Encoding": "gzip",
  });
}

/** The page and its assets; public (the page signs in itself). */
export function registerDashboardPage(app: Hono<AppEnv>): void {
  app.get("/", (c) =>
    sendText(c, "page", DASHBOARD_HTML, {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": DASHBOARD_CSP,
      // The page names the current asset URLs: always revalidate it.
      "Cache-Control": "no-cache",
      "Referrer-Policy": "no-referrer",
    }));

  app.get("/assets/:digest/:name", (c) => {
    const found = WEB_ASSETS.get(c.req.param("name"));
    if (!found || found.digest !== c.req.param("digest")) {
      return c.json({ error: `no asset ${c.req.path}` }, 404);
    }
    return sendText(c, found.url, found.text, {
      "Content-Type": found.contentType,
      "Cache-Control": IMMUTABLE,
      ETag: `"${found.digest}"`,
    });
  });

  app.get("/favicon.ico", (c) => c.redirect(WEB_ASSETS.get("favicon.svg")!.url, 301));
}

export function dashboardHttp(deps: DashboardDeps): AppExtension {
  return {
    register(app: Hono<AppEnv>) {
      registerDashboardPage(app);
      registerLiveRoutes(app, deps.versions);
      app.get("/sources/rejects", requireScope<AppEnv>("insights:read"), async (c) => {
        const { limit } = parseQuery(c, RejectsQuery);
        const rejects = await deps.recentRejects(c.get("principal").tenant, limit);
        return c.json({ rejects });
      });
    },
    operations: DASHBOARD_OPERATIONS,
  };
}

const DASHBOARD_OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/session",
    summary: "Dashboard sign-in: checks an API key or JWT and sets a short-lived HttpOnly, " +
      "SameSite=Strict session cookie (DELETE /session signs out)",
    tags: ["dashboard"],
    body: [{ contentType: "application/json", schema: SessionRequestSchema }],
    response: z.object({
      signed_in: z.boolean(),
      tenant: z.string(),
      scopes: z.array(z.string()),
      expires_at: z.string(),
    }),
    statuses: [400, 401, 403],
  },
  {
    method: "get",
    path: "/events",
    summary: "Server-Sent Events: `version` events carrying the tenant's data version, sent " +
      "when a write commits",
    tags: ["dashboard"],
    responseType: "text/event-stream",
    scope: "insights:read",
  },
  {
    method: "get",
    path: "/sources/rejects",
    summary: "Rows ingestion rejected (dead letters), newest first, with the field and reason",
    tags: ["ingestion"],
    query: RejectsQuery,
    response: RejectsResponse,
    scope: "insights:read",
  },
  {
    method: "get",
    path: "/data-version",
    summary: "The tenant's data version (ETag; 304 when If-None-Match matches): poll for changes",
    tags: ["dashboard"],
    response: z.object({ version: z.string() }),
    scope: "insights:read",
  },
];
