/**
 * The whole API as `serve` composes it (push, /sources, /prompt, /mcp) over a migrated
 * PGlite store and a memory cache, listening on a real socket, with rows for two tenants;
 * and an MCP client over Streamable HTTP with a chosen token.
 */
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadAppConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { composeApp } from "../../runtime/compose_app.ts";
import { createCachedReader } from "../../runtime/cache_wiring.ts";
import { cacheSettingsFromEnv } from "../../lib/cache/settings.ts";
import { promptExtension } from "../../handlers/prompt.ts";
import { JWT_SECRET, KEY_A, KEY_B, metricRow } from "../support/test_app.ts";
import { pgliteDatabase } from "../support/databases.ts";
import type { MetricRowInput } from "../../lib/schema.ts";

export { JWT_SECRET, KEY_A, KEY_B };

export interface McpTestServer {
  base: string;
  /** The app itself, for requests without a socket. */
  app: ReturnType<typeof composeApp>["app"];
  /** The REST API's JSON answer for a path, as tenant A unless another key is given. */
  rest(path: string, key?: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** One row per day for `days` days from 2023-01-01: enough for a list longer than any cap. */
export function dailyRows(days: number, overrides: Partial<MetricRowInput> = {}): MetricRowInput[] {
  const start = Date.UTC(2023, 0, 1);
  return Array.from({ length: days }, (_, day) =>
    metricRow({
      campaign_id: "cmp-daily",
      campaign_name: "Every Day",
      ts: new Date(start + day * 86_400_000).toISOString(),
      impressions: 100 + day,
      clicks: 10,
      cost: "1.25",
      ...overrides,
    }));
}

export const SEED_ROWS: MetricRowInput[] = [
  metricRow(),
  metricRow({ ts: "2024-04-10T00:00:00Z", impressions: 3000, clicks: 90, cost: "75.50" }),
  metricRow({ platform: "meta", account_id: "act_9", impressions: 999, currency: "EUR" }),
  metricRow({ campaign_id: "cmp-7", campaign_name: "Winter Clearance", cost: "12.34" }),
  metricRow({ tenant_id: "tenant-b", campaign_id: "cmp-b-secret", campaign_name: "B Only" }),
];

export async function startMcpTestServer(
  options: { rows?: MetricRowInput[]; corsOrigins?: string } = {},
): Promise<McpTestServer> {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  await store.upsert(options.rows ?? SEED_ROWS);
  const reader = await createCachedReader(cacheSettingsFromEnv({}), silentLogger);
  const { app } = composeApp({
    config: loadAppConfig({
      API_KEY: `tenant-a:${KEY_A},tenant-b:${KEY_B}`,
      JWT_SECRET,
      CORS_ORIGINS: options.corsOrigins,
    }),
    store,
    journal: new IngestJournal(db.driver),
    reader,
    logger: silentLogger,
    telemetry: new Registry(),
    clock: () => new Date("2024-04-24T10:00:00Z"),
    configuredSources: () => ["fake"],
    extensions: () => [promptExtension()],
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    app,
    async rest(path, key = KEY_A) {
      const response = await fetch(base + path, { headers: { Authorization: `Bearer ${key}` } });
      if (!response.ok) {
        throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
      }
      return await response.json();
    },
    async close() {
      await server.shutdown();
      await reader.close();
      await db.dispose();
    },
  };
}

/** An MCP client connected (initialized) to `/mcp` with this bearer token. */
export async function mcpClient(base: string, key: string): Promise<Client> {
  const client = new Client({ name: "mcp-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}
