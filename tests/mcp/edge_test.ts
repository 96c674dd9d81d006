/**
 * `/mcp` through the edge entry point: the SDK client's requests go straight to the edge
 * `fetch` handler (no socket, as an edge runtime calls it), configured only by an
 * environment record, against a fresh migrated PostgreSQL schema.
 */
import assert from "node:assert/strict";
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createEdgeHandler } from "../../runtime/edge.ts";
import { silentLogger } from "../../lib/log.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { postgresDatabase, postgresMissing } from "../support/databases.ts";
import { KEY_A, KEY_B } from "../support/test_app.ts";
import { SEED_ROWS } from "./support.ts";

const BASE = "https://edge.example";

Deno.test({
  name: "edge: /mcp answers tools/call with the REST route's numbers, and 401 without a token",
  ignore: postgresMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await postgresDatabase();
    const handler = createEdgeHandler({
      DATABASE_URL: db.url,
      API_KEY: `tenant-a:${KEY_A},tenant-b:${KEY_B}`,
      LOG_LEVEL: "error",
    }, { logger: silentLogger });
    const client = new Client({ name: "edge-test", version: "1.0.0" });
    try {
      await new SqlMetricsStore(db.driver).upsert(SEED_ROWS);
      const anonymous = await handler.fetch(
        new Request(`${BASE}/mcp`, { method: "POST", body: "{}" }),
      );
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get("WWW-Authenticate") ?? "", /^Bearer/);
      await anonymous.body?.cancel();

      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${BASE}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${KEY_A}` } },
          fetch: (input, init) => handler.fetch(new Request(input, init)),
        }),
      );
      const result = await client.callTool({
        name: "campaign_insights",
        arguments: { campaign_id: "cmp-42", from: "2024-04-01", to: "2024-04-20" },
      });
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const rest = await handler.fetch(
        new Request(`${BASE}/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-20`, {
          headers: { Authorization: `Bearer ${KEY_A}` },
        }),
      );
      assert.deepEqual(result.structuredContent, await rest.json());
      const hidden = await client.callTool({
        name: "campaign_insights",
        arguments: { campaign_id: "cmp-b-secret" },
      });
      assert.equal(hidden.isError, true);
    } finally {
      await client.close();
      await handler.close();
      await db.dispose();
    }
  },
});
