/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP, stateless, JSON answers (no
 * session, no server-sent stream), on the API app itself. The caller authenticates
 * exactly as for the REST routes (the app's bearer middleware has already run), and every
 * tool asks the REST route of the same name in process with the caller's own
 * Authorization header: same tenant, scopes, validation, cache and numbers.
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { requireScope } from "./auth.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { type ApiRequest, createMcpServer } from "./mcp_tools.ts";
import type { Operation } from "./openapi.ts";

export const MCP_PATH = "/mcp";

/** JSON-RPC requests are small; a bigger body is refused before it is read. */
export const MAX_MCP_BODY_BYTES = 256 * 1024;

/** For the API description: the protocol itself is the MCP specification's. */
export const MCP_OPERATION: Operation = {
  method: "post",
  path: MCP_PATH,
  summary: "Model Context Protocol for AI agents (Streamable HTTP, stateless, JSON answers): " +
    "tools list_campaigns, campaign_insights, query_insights, list_sources and ask answer " +
    "with these routes' JSON; send Accept: application/json, text/event-stream",
  tags: ["mcp"],
  body: [{
    contentType: "application/json",
    schema: z.object({
      jsonrpc: z.literal("2.0"),
      id: z.union([z.string(), z.number()]).optional(),
      method: z.string().meta({ example: "tools/call" }),
      params: z.record(z.string(), z.unknown()).optional(),
    }).loose(),
    description: "a JSON-RPC 2.0 message of the MCP specification",
  }],
  response: z.object({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.string(), z.number()]),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.number(), message: z.string() }).loose().optional(),
  }),
  scope: "insights:read",
  statuses: [413],
};

/**
 * A browser page may only reach /mcp from this API's own origin or one of the configured
 * CORS origins: otherwise any site the user visits could drive the tools with a token the
 * browser holds (DNS rebinding). Clients that are not browsers send no Origin.
 */
export function originAllowed(c: Context, allowList: readonly string[]): boolean {
  const origin = c.req.header("Origin");
  if (origin === undefined) return true;
  if (allowList.includes("*") || allowList.includes(origin)) return true;
  try {
    const host = c.req.header("Host") ?? new URL(c.req.url).host;
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The REST API as this caller: the same app, the caller's own Authorization header. */
export function inProcessApi(app: Hono<AppEnv>, authorization: string): ApiRequest {
  return async (path, init = {}) =>
    await app.request(path, {
      method: init.method ?? "GET",
      headers: {
        Authorization: authorization,
        ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: init.body,
    });
}

export function registerMcpRoute(app: Hono<AppEnv>, deps: AppDeps, version: string): void {
  app.on(
    ["GET", "DELETE"],
    MCP_PATH,
    // Stateless JSON mode: nothing to stream to and no session to end.
    (c) =>
      c.json({ error: `${c.req.method} is not used here: send MCP requests as POST` }, 405, {
        Allow: "POST",
      }),
  );
  app.post(
    MCP_PATH,
    (c, next) =>
      originAllowed(c, deps.corsOrigins)
        ? next()
        : Promise.resolve(c.json({ error: "origin not allowed", field: "Origin" }, 403)),
    bodyLimit({
      maxSize: MAX_MCP_BODY_BYTES,
      onError: (c) =>
        c.json({ error: `body larger than ${MAX_MCP_BODY_BYTES} bytes`, field: "body" }, 413),
    }),
    requireScope<AppEnv>("insights:read"),
    async (c) => {
      const server = createMcpServer(inProcessApi(app, c.req.header("Authorization")!), {
        version,
      });
      // One server and transport per request: stateless mode shares nothing between calls.
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        maxRequestBodySize: MAX_MCP_BODY_BYTES,
      });
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw);
      } finally {
        await server.close();
      }
    },
  );
}
