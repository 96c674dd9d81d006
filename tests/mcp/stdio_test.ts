/**
 * `main.ts mcp` as a child process, driven by the SDK's stdio client: over a temporary
 * embedded DATA_DIR (the numbers equal the API's over the same directory), refusing a
 * DATA_DIR another process holds, and forwarding to a running API with MCP_API_URL.
 */
import assert from "node:assert/strict";
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { silentLogger } from "../../lib/log.ts";
import { buildServices } from "../../runtime/services.ts";
import { loadServeSettings } from "../../runtime/settings.ts";
import { runMain } from "../support/services.ts";
import { KEY_A, startMcpTestServer } from "./support.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Only what a child needs: no DATABASE_URL, REDIS_URL or keys leak in from the shell. */
function childEnv(overrides: Record<string, string>): Record<string, string> {
  const inherited = ["PATH", "HOME", "DENO_DIR", "TMPDIR"].flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value]];
  });
  return { ...Object.fromEntries(inherited), LOG_LEVEL: "warn", ...overrides };
}

async function stdioClient(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "mcp-stdio-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: ["run", "-A", MAIN, "mcp"],
      env: childEnv(env),
      stderr: "inherit",
    }),
  );
  return client;
}

function structured(result: unknown): Record<string, unknown> {
  const { isError, content, structuredContent } = result as {
    isError?: boolean;
    content: { text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  assert.notEqual(isError, true, content.map((part) => part.text).join("\n"));
  return structuredContent!;
}

const LOCAL_ENV = (dataDir: string) => ({
  DATA_DIR: dataDir,
  DATA_SOURCE: "fake",
  FAKE_BACKFILL_DAYS: "3",
  FAKE_CAMPAIGNS: "5",
  API_KEY: KEY_A,
});

Deno.test({
  name:
    "mcp over stdio: a local DATA_DIR, the API's numbers, and the lock against a second process",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "mcp-stdio-" });
    try {
      let insights: Record<string, unknown> = {};
      let campaignId = "";
      await t.step("initialize, tools/list and tools/call over stdio", async () => {
        const client = await stdioClient(LOCAL_ENV(dataDir));
        try {
          assert.equal(client.getServerVersion()?.name, "campaign-analytics");
          const { tools } = await client.listTools();
          assert.equal(tools.length, 5);
          for (const tool of tools) assert.equal(tool.inputSchema.type, "object");
          const page = structured(
            await client.callTool({ name: "list_campaigns", arguments: { limit: 3 } }),
          ) as { campaigns: { campaign_id: string }[] };
          assert.ok(page.campaigns.length > 0, "the fake data was backfilled");
          campaignId = page.campaigns[0].campaign_id;
          insights = structured(
            await client.callTool({
              name: "campaign_insights",
              arguments: { campaign_id: campaignId, granularity: "day" },
            }),
          );
          assert.ok((insights.totals as { impressions: number }).impressions > 0);
          const bad = await client.callTool({
            name: "query_insights",
            arguments: { to: "2024-02-30" },
          });
          assert.equal(bad.isError, true);
          assert.match(JSON.stringify(bad.content), /\bto\b/);
        } finally {
          await client.close();
        }
      });

      await t.step("the same numbers as the REST route over the same directory", async () => {
        const services = await buildServices(
          loadServeSettings({ ...LOCAL_ENV(dataDir), LOG_LEVEL: "error" }),
          { logger: silentLogger },
        );
        try {
          const response = await services.app.request(
            `/campaign/${campaignId}/insights?granularity=day`,
            { headers: { Authorization: `Bearer ${KEY_A}` } },
          );
          assert.equal(response.status, 200);
          assert.deepEqual(insights, await response.json());

          // While this process holds the directory, `mcp` must refuse it and say why.
          const refused = await runMain(["mcp"], childEnv(LOCAL_ENV(dataDir)), {
            clearEnv: true,
          });
          assert.equal(refused.code, 1, refused.stderr);
          assert.match(
            refused.stderr,
            new RegExp(`in use by another process \\(pid ${Deno.pid}\\)`),
          );
          assert.match(refused.stderr, /MCP_API_URL/);
          assert.equal(refused.stdout, "", "nothing but protocol on stdout");
        } finally {
          await services.close();
        }
      });

      await t.step("the directory is usable again once its holder closed it", async () => {
        const client = await stdioClient(LOCAL_ENV(dataDir));
        try {
          const again = structured(
            await client.callTool({
              name: "campaign_insights",
              arguments: { campaign_id: campaignId, granularity: "day" },
            }),
          );
          assert.deepEqual(again, insights);
        } finally {
          await client.close();
        }
      });
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "mcp over stdio with MCP_API_URL: forwards to the running API with MCP_API_KEY",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startMcpTestServer();
    const dataDir = await Deno.makeTempDir({ prefix: "mcp-forward-" });
    try {
      const client = await stdioClient({
        MCP_API_URL: server.base,
        MCP_API_KEY: KEY_A,
        // Never opened in forwarding mode: it is never created.
        DATA_DIR: `${dataDir}/unused`,
      });
      try {
        const result = structured(
          await client.callTool({
            name: "campaign_insights",
            arguments: { campaign_id: "cmp-42", from: "2024-04-01", to: "2024-04-20" },
          }),
        );
        assert.deepEqual(
          result,
          await server.rest("/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-20"),
        );
        const hidden = await client.callTool({
          name: "campaign_insights",
          arguments: { campaign_id: "cmp-b-secret" },
        });
        assert.equal(hidden.isError, true);
      } finally {
        await client.close();
      }
      assert.equal(await Deno.stat(`${dataDir}/unused`).catch(() => null), null);

      // A client that writes its requests and closes its end still gets every answer.
      const piped = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "mcp"],
        env: childEnv({ MCP_API_URL: server.base, MCP_API_KEY: KEY_A }),
        clearEnv: true,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = piped.stdin.getWriter();
      await writer.write(
        new TextEncoder().encode(
          [
            {
              jsonrpc: "2.0",
              id: 1,
              method: "initialize",
              params: {
                protocolVersion: "2025-06-18",
                capabilities: {},
                clientInfo: { name: "pipe", version: "1" },
              },
            },
            { jsonrpc: "2.0", method: "notifications/initialized" },
            {
              jsonrpc: "2.0",
              id: 2,
              method: "tools/call",
              params: { name: "list_campaigns", arguments: {} },
            },
          ].map((message) => JSON.stringify(message) + "\n").join(""),
        ),
      );
      await writer.close();
      const output = await piped.output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const answers = new TextDecoder().decode(output.stdout).trim().split("\n").map((line) =>
        JSON.parse(line)
      );
      assert.deepEqual(answers.map((answer) => answer.id), [1, 2]);
      assert.deepEqual(answers[1].result.structuredContent, await server.rest("/campaigns"));

      const missingKey = await runMain(["mcp"], childEnv({ MCP_API_URL: server.base }), {
        clearEnv: true,
      });
      assert.equal(missingKey.code, 2);
      assert.match(missingKey.stderr, /MCP_API_KEY/);

      const unknownKey = await runMain(
        ["mcp"],
        childEnv({
          DATA_DIR: `${dataDir}/local`,
          API_KEY: KEY_A,
          MCP_API_KEY: "not-a-key-of-ours",
        }),
        { clearEnv: true },
      );
      assert.equal(unknownKey.code, 2);
      assert.match(unknownKey.stderr, /MCP_API_KEY \(not one of the keys API_KEY configures\)/);
    } finally {
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
