/**
 * `/mcp` over a real socket with the SDK's own client: every tool's structured answer is
 * the REST route's answer for the same arguments, auth and tenancy are the API's, and
 * bad arguments come back as tool errors naming the field.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { KPI_DEFINITIONS } from "../../lib/kpi.ts";
import {
  KPI_RESOURCE_URI,
  MAX_TOOL_ROWS,
  PLATFORMS_RESOURCE_URI,
} from "../../handlers/mcp_tools.ts";
import {
  dailyRows,
  JWT_SECRET,
  KEY_A,
  KEY_B,
  mcpClient,
  SEED_ROWS,
  startMcpTestServer,
} from "./support.ts";

const TOOLS = ["ask", "campaign_insights", "list_campaigns", "list_sources", "query_insights"];

/** The text parts of a tool result, joined. */
function textOf(result: unknown): string {
  return (result as { content: { text?: string }[] }).content.map((part) => part.text ?? "")
    .join("\n");
}

/** The JSON text of the first part of a resource. */
function resourceJson(resource: { contents: unknown[] }) {
  return JSON.parse((resource.contents[0] as { text: string }).text);
}

/** An HS256 token for `tenant` with these scopes, valid for an hour. */
async function jwt(tenant: string, scope: string): Promise<string> {
  return await new SignJWT({ tenant, scope })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** A JSON-RPC initialize request as a raw POST (for checks below the client). */
function rawInitialize(base: string, headers: Record<string, string>, body?: string) {
  return fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      ...headers,
    },
    body: body ?? JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "raw", version: "1" },
      },
    }),
  });
}

Deno.test({
  name: "mcp over HTTP: tools equal the REST answers, with the API's auth and tenancy",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const server = await startMcpTestServer();
    const client = await mcpClient(server.base, KEY_A);
    try {
      await t.step("initialize: the server names itself; stateless, no session", async () => {
        assert.equal(client.getServerVersion()?.name, "campaign-analytics");
        assert.ok(client.getServerCapabilities()?.tools);
        assert.ok(client.getServerCapabilities()?.resources);
        const response = await rawInitialize(server.base, { Authorization: `Bearer ${KEY_A}` });
        assert.equal(response.status, 200);
        assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
        assert.equal(response.headers.get("Mcp-Session-Id"), null);
        await response.body?.cancel();
      });

      await t.step("tools/list: every tool has an input and an output schema", async () => {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
        for (const tool of tools) {
          assert.equal(tool.inputSchema.type, "object", tool.name);
          assert.equal(tool.outputSchema?.type, "object", tool.name);
          assert.ok((tool.description ?? "").length > 80, `${tool.name} is described`);
          assert.equal(tool.annotations?.readOnlyHint, true);
        }
        const insights = tools.find((tool) => tool.name === "campaign_insights")!;
        assert.deepEqual(insights.inputSchema.required, ["campaign_id"]);
        assert.match(insights.description!, /inclusive/);
        assert.match(insights.description!, /never added across currencies/);
        assert.match(insights.description!, /ctr = clicks \/ impressions/);
      });

      await t.step("campaign_insights: the REST route's answer, to the digit", async () => {
        const result = await client.callTool({
          name: "campaign_insights",
          arguments: {
            campaign_id: "cmp-42",
            from: "2024-04-01",
            to: "2024-04-20",
            platform: "Google",
            granularity: "day",
            tz: "Europe/Paris",
          },
        });
        assert.equal(result.isError, undefined, textOf(result));
        const rest = await server.rest(
          "/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-20&platform=Google" +
            "&granularity=day&tz=Europe%2FParis",
        );
        assert.deepEqual(result.structuredContent, rest);
        assert.equal((rest.totals as { impressions: number }).impressions, 4000);
        assert.deepEqual(JSON.parse(textOf(result)), rest);
      });

      await t.step(
        "campaign_insights over two currencies: by_currency, nothing summed",
        async () => {
          const result = await client.callTool({
            name: "campaign_insights",
            arguments: { campaign_id: "cmp-42" },
          });
          const structured = result.structuredContent as Record<string, unknown>;
          assert.deepEqual(structured, await server.rest("/campaign/cmp-42/insights"));
          assert.equal(structured.currency, null);
          assert.equal((structured.totals as { cost: unknown }).cost, null);
          assert.equal((structured.by_currency as unknown[]).length, 2);
        },
      );

      await t.step("query_insights, list_campaigns, list_sources: the REST answers", async () => {
        const cases: [string, Record<string, unknown>, string][] = [
          [
            "query_insights",
            { from: "2024-04-01", to: "2024-04-30", group_by: "campaign", order_by: "cost" },
            "/insights?from=2024-04-01&to=2024-04-30&group_by=campaign&order_by=cost",
          ],
          [
            "query_insights",
            { platform: "google", campaign_id: "cmp-42", group_by: "week", limit: 3 },
            "/insights?platform=google&campaign_id=cmp-42&group_by=week&limit=3",
          ],
          ["list_campaigns", { sort: "spend", limit: 5 }, "/campaigns?sort=spend&limit=5"],
          ["list_campaigns", { q: "winter" }, "/campaigns?q=winter"],
          ["list_sources", {}, "/sources"],
        ];
        for (const [name, args, path] of cases) {
          const result = await client.callTool({ name, arguments: args });
          assert.equal(result.isError, undefined, `${name}: ${textOf(result)}`);
          assert.deepEqual(result.structuredContent, await server.rest(path), name);
        }
        const campaigns = await client.callTool({ name: "list_campaigns", arguments: {} });
        const ids = (campaigns.structuredContent as { campaigns: { campaign_id: string }[] })
          .campaigns.map((campaign) => campaign.campaign_id);
        assert.deepEqual([...new Set(ids)].sort(), ["cmp-42", "cmp-7"], "only tenant A's");
      });

      await t.step("ask: the bot's reply as text, its query and data as structure", async () => {
        const result = await client.callTool({
          name: "ask",
          arguments: { prompt: "spend on google in April 2024", conversation_id: "mcp-ask-test-1" },
        });
        assert.equal(result.isError, undefined, textOf(result));
        const answer = result.structuredContent as {
          reply: string;
          query: { intent: string };
          data: Record<string, unknown>;
        };
        const rest = await fetch(`${server.base}/prompt`, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            prompt: "spend on google in April 2024",
            conversation_id: "mcp-ask-test-1",
          }),
        }).then((response) => response.json());
        assert.deepEqual(answer, rest);
        assert.equal(textOf(result), answer.reply);
        assert.match(answer.reply, /112\.84/, "25 + 75.50 + 12.34 USD on google");
      });

      await t.step("an impossible date is a tool error naming the field", async () => {
        const result = await client.callTool({
          name: "campaign_insights",
          arguments: { campaign_id: "cmp-42", from: "2024-02-30" },
        });
        assert.equal(result.isError, true);
        assert.match(textOf(result), /\bfrom\b/);
        assert.match(textOf(result), /calendar date/);
        assert.equal(result.structuredContent, undefined);
      });

      await t.step("a range the REST route refuses is a tool error naming the field", async () => {
        const reversed = await client.callTool({
          name: "query_insights",
          arguments: { from: "2024-04-10", to: "2024-04-01" },
        });
        assert.equal(reversed.isError, true);
        assert.match(textOf(reversed), /Invalid argument "from"/);
        const platform = await client.callTool({
          name: "list_campaigns",
          arguments: { platform: "myspace" },
        });
        assert.equal(platform.isError, true);
        assert.match(textOf(platform), /platform/);
        const orderWithoutGroup = await client.callTool({
          name: "query_insights",
          arguments: { order_by: "ctr" },
        });
        assert.equal(orderWithoutGroup.isError, true);
        assert.match(textOf(orderWithoutGroup), /"order_by"/);
      });

      await t.step("another tenant's campaign is not found, with no data", async () => {
        const result = await client.callTool({
          name: "campaign_insights",
          arguments: { campaign_id: "cmp-b-secret" },
        });
        assert.equal(result.isError, true);
        assert.match(textOf(result), /not found/);
        assert.doesNotMatch(textOf(result), /B Only|impressions/);
        assert.equal(result.structuredContent, undefined);
        const asB = await mcpClient(server.base, KEY_B);
        const own = await asB.callTool({
          name: "campaign_insights",
          arguments: { campaign_id: "cmp-b-secret" },
        });
        assert.equal(own.isError, undefined);
        assert.equal((own.structuredContent as { campaign_name: string }).campaign_name, "B Only");
        await asB.close();
      });

      await t.step(
        "JWTs as for REST: the tenant claim decides, insights:read is needed",
        async () => {
          const asB = await mcpClient(server.base, await jwt("tenant-b", "insights:read"));
          const own = await asB.callTool({ name: "list_campaigns", arguments: {} });
          const ids = (own.structuredContent as { campaigns: { campaign_id: string }[] }).campaigns
            .map((campaign) => campaign.campaign_id);
          assert.deepEqual(ids, ["cmp-b-secret"]);
          await asB.close();
          const writeOnly = await rawInitialize(server.base, {
            Authorization: `Bearer ${await jwt("tenant-a", "metrics:write")}`,
          });
          assert.equal(writeOnly.status, 403);
          assert.match((await writeOnly.json()).error, /insights:read/);
        },
      );

      await t.step("resources: KPI definitions from the KPI module, platforms", async () => {
        const { resources } = await client.listResources();
        assert.deepEqual(
          resources.map((r) => r.uri).sort(),
          [
            KPI_RESOURCE_URI,
            PLATFORMS_RESOURCE_URI,
          ].sort(),
        );
        const kpis = await client.readResource({ uri: KPI_RESOURCE_URI });
        const document = resourceJson(kpis);
        assert.deepEqual(Object.keys(document.kpis), Object.keys(KPI_DEFINITIONS));
        assert.equal(document.kpis.cpm.formula, "cost / impressions * 1000");
        assert.match(document.kpis.roas.null_when, /several currencies/);
        const platforms = await client.readResource({ uri: PLATFORMS_RESOURCE_URI });
        const meta = resourceJson(platforms).platforms.find((
          p: { platform: string },
        ) => p.platform === "meta");
        assert.ok(meta.aliases.includes("facebook"));
      });

      await t.step("no token: 401 with a Bearer challenge", async () => {
        const response = await rawInitialize(server.base, {});
        assert.equal(response.status, 401);
        assert.match(response.headers.get("WWW-Authenticate") ?? "", /^Bearer realm=/);
        await response.body?.cancel();
        const wrong = await rawInitialize(server.base, {
          Authorization: "Bearer not-a-key-at-all",
        });
        assert.equal(wrong.status, 401);
        await wrong.body?.cancel();
        await assert.rejects(mcpClient(server.base, "not-a-key-at-all"));
      });

      await t.step("a foreign Origin is refused; the API's own origin is not", async () => {
        const foreign = await rawInitialize(server.base, {
          Authorization: `Bearer ${KEY_A}`,
          Origin: "https://evil.example",
        });
        assert.equal(foreign.status, 403);
        assert.deepEqual(await foreign.json(), { error: "origin not allowed", field: "Origin" });
        const own = await rawInitialize(server.base, {
          Authorization: `Bearer ${KEY_A}`,
          Origin: server.base,
        });
        assert.equal(own.status, 200);
        await own.body?.cancel();
      });

      await t.step("an oversized body is refused with 413 before it is parsed", async () => {
        const response = await rawInitialize(
          server.base,
          { Authorization: `Bearer ${KEY_A}` },
          JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", padding: "x".repeat(300_000) }),
        );
        assert.equal(response.status, 413);
        await response.body?.cancel();
      });

      await t.step("the API description lists POST /mcp with its scope", async () => {
        const spec = await (await fetch(`${server.base}/openapi.json`)).json();
        const operation = spec.paths["/mcp"].post;
        assert.match(operation.summary, /Model Context Protocol/);
        assert.ok(operation.responses["401"] && operation.responses["413"]);
      });

      await t.step("GET has no stream to open in stateless mode: 405", async () => {
        const response = await fetch(`${server.base}/mcp`, {
          headers: { Authorization: `Bearer ${KEY_A}`, Accept: "text/event-stream" },
        });
        assert.equal(response.status, 405);
        assert.equal(response.headers.get("Allow"), "POST");
        await response.body?.cancel();
      });
    } finally {
      await client.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "mcp over HTTP: a configured CORS origin may call; lists are cut at the row cap",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startMcpTestServer({
      rows: [...SEED_ROWS, ...dailyRows(MAX_TOOL_ROWS + 100)],
      corsOrigins: "https://dashboard.example",
    });
    const client = await mcpClient(server.base, KEY_A);
    try {
      const allowed = await rawInitialize(server.base, {
        Authorization: `Bearer ${KEY_A}`,
        Origin: "https://dashboard.example",
      });
      assert.equal(allowed.status, 200);
      await allowed.body?.cancel();

      const result = await client.callTool({
        name: "campaign_insights",
        arguments: { campaign_id: "cmp-daily", granularity: "day" },
      });
      assert.equal(result.isError, undefined, textOf(result));
      const structured = result.structuredContent as Record<string, unknown>;
      const rest = await server.rest("/campaign/cmp-daily/insights?granularity=day");
      assert.equal((rest.series as unknown[]).length, MAX_TOOL_ROWS + 100);
      assert.deepEqual(structured.series, (rest.series as unknown[]).slice(0, MAX_TOOL_ROWS));
      assert.deepEqual(structured.totals, rest.totals, "totals still cover every day");
      assert.deepEqual(structured.truncated, [{
        path: "series",
        total: MAX_TOOL_ROWS + 100,
        returned: MAX_TOOL_ROWS,
      }]);
      assert.match(textOf(result), /^Truncated: series has 600 rows, the first 500 are shown/);
    } finally {
      await client.close();
      await server.close();
    }
  },
});
