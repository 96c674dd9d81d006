/**
 * `main.ts mcp` (`deno task mcp`): the MCP server over stdio, for an agent on this
 * machine. Stdout carries the protocol only; logs go to stderr. Nothing is bound to a
 * network port. Two ways to reach the numbers, with the same tools as `/mcp`:
 *
 * - local (default): opens the store as `serve` does (embedded PGlite in DATA_DIR, or
 *   DATABASE_URL) and asks the API app in process with one API key: MCP_API_KEY, else the
 *   first API_KEY, else a key made up for tenant "default" (as `serve` does). That key's
 *   tenant is the only one visible. An embedded DATA_DIR that `serve` holds is refused with
 *   a pointer to the forwarding mode (two engines on one data directory corrupt it).
 * - forwarding: with MCP_API_URL and MCP_API_KEY, every tool is an HTTP request to that
 *   running API with that key; no database is opened here.
 */
import process from "node:process";
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { API_VERSION } from "../handlers/app_factory.ts";
import { AuthError } from "../handlers/auth.ts";
import { inProcessApi } from "../handlers/mcp.ts";
import { type ApiRequest, createMcpServer } from "../handlers/mcp_tools.ts";
import { botExtensions } from "./bot.ts";
import { DataDirLockedError } from "./data_dir_lock.ts";
import { buildServices } from "./services.ts";
import type { McpSettings } from "./settings.ts";

/** The REST API of a running server, over HTTP, with one API key. */
export function httpApi(baseUrl: string, key: string, timeoutMs: number): ApiRequest {
  const base = baseUrl.replace(/\/+$/, "");
  return async (path, init = {}) => {
    try {
      return await fetch(base + path, {
        method: init.method ?? "GET",
        headers: {
          Authorization: `Bearer ${key}`,
          ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: init.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // Becomes the tool's error text: say where, never the key.
      throw new Error(`the API at ${base} did not answer: ${(error as Error).message}`);
    }
  };
}

/** Serves MCP on stdin/stdout until the client closes stdin. */
async function serveStdio(api: ApiRequest, logger: Logger): Promise<void> {
  // Calls still running when input ends (a client that writes its requests and closes,
  // `... | deno task mcp`) are answered before the server stops.
  let running = 0;
  let idle: (() => void) | undefined;
  const counted: ApiRequest = async (path, init) => {
    running++;
    try {
      return await api(path, init);
    } finally {
      running--;
      if (running === 0) idle?.();
    }
  };
  const server = createMcpServer(counted, { version: API_VERSION });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  transport.onerror = (error: Error) => logger.warn("mcp stdio error", { error: error.message });
  await server.connect(transport);
  logger.info("mcp server ready on stdio");
  // The SDK's stdio transport does not watch for the end of input: the client going away
  // ends the server.
  const end = async () => {
    // Requests read just before the end may not have reached a tool yet: one turn first.
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (running > 0) await new Promise<void>((resolve) => idle = resolve);
    // The answer is written a few promise turns after the tool's request settles.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
  };
  let ending: Promise<void> | undefined;
  const endOnce = () => void (ending ??= end());
  process.stdin.once("end", endOnce);
  process.stdin.once("close", endOnce);
  // A client that stops the server with a signal gets the same orderly end: the store is
  // closed (and its directory lock released) before the process exits.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, endOnce);
  try {
    await closed;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, endOnce);
  }
}

export async function runMcp(all: McpSettings): Promise<number> {
  const settings = all.mcp;
  const logger = createLogger({
    level: all.app.LOG_LEVEL,
    // Stdout belongs to the protocol.
    write: (line) => console.error(line),
  });

  if (settings.MCP_API_URL) {
    if (!settings.MCP_API_KEY) {
      throw new ConfigError({
        missing: ["MCP_API_KEY"],
        context: "mcp (MCP_API_URL forwards to a running API with that key)",
      });
    }
    logger.info("mcp forwarding to a running API", { api: settings.MCP_API_URL });
    await serveStdio(
      httpApi(settings.MCP_API_URL, settings.MCP_API_KEY, settings.MCP_API_TIMEOUT_MS),
      logger,
    );
    return 0;
  }

  const key = settings.MCP_API_KEY ?? all.app.API_KEY[0]?.key;
  let services;
  try {
    services = await buildServices(all, { logger, extensions: botExtensions(all.bot) });
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    console.error(
      `mcp: ${error.message}.\n` +
        "Is `serve` running on it? Then point the MCP server at that API instead of the data " +
        "directory: set MCP_API_URL (e.g. http://127.0.0.1:8080) and MCP_API_KEY (an API key " +
        "of that server). Or stop the other process, or use another DATA_DIR.",
    );
    return 1;
  }
  try {
    const token = key ?? services.generatedApiKey;
    if (!token) {
      throw new ConfigError({
        problems: [
          "only JWT settings are configured: set MCP_API_KEY (or API_KEY) to choose the " +
          "tenant the MCP server reads",
        ],
        context: "mcp",
      });
    }
    try {
      await services.deps.authenticator.authenticate(token);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      throw new ConfigError({
        invalid: [{ variable: "MCP_API_KEY", problem: "not one of the keys API_KEY configures" }],
        context: "mcp",
      });
    }
    // An empty local store gets the fake data `serve` would backfill, as `ask` does.
    await services.streamer?.backfillIfEmpty();
    await serveStdio(inProcessApi(services.app, `Bearer ${token}`), logger);
    return 0;
  } finally {
    await services.close();
  }
}
