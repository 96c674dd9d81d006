/**
 * `main.ts serve` as a user runs it locally (no credentials, embedded store): it listens
 * on 127.0.0.1 only, serves /mcp with its generated key, and holds its DATA_DIR, so
 * `main.ts mcp` on the same directory refuses to open it and points at MCP_API_URL.
 */
import assert from "node:assert/strict";
import { runMain, startReplica } from "../support/services.ts";
import { mcpClient } from "./support.ts";

Deno.test({
  name: "mcp refuses the DATA_DIR a running serve holds; serve's /mcp answers locally",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "mcp-serve-lock-" });
    const env = { DATA_DIR: dataDir, FAKE_BACKFILL_DAYS: "2", FAKE_INTERVAL_MS: "60000" };
    const server = await startReplica({ ...env, API_KEY: "", DATABASE_URL: "", REDIS_URL: "" });
    try {
      assert.match(server.output(), /"msg":"listening","port":\d+,"hostname":"127\.0\.0\.1"/);
      const key = /accepts the generated key (\S+)/.exec(server.output())?.[1];
      assert.ok(key);

      const refused = await runMain(["mcp"], {
        ...env,
        API_KEY: "",
        DATABASE_URL: "",
        MCP_API_URL: "",
      });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`in use by another process \\(pid ${server.pid}\\)`));
      assert.match(refused.stderr, /set MCP_API_URL .* and MCP_API_KEY/);

      const client = await mcpClient(server.base, key);
      try {
        const result = await client.callTool({ name: "list_sources", arguments: {} });
        assert.equal(result.isError, undefined, JSON.stringify(result.content));
        const sources = (result.structuredContent as { sources: { source: string }[] }).sources;
        assert.deepEqual(sources.map((source) => source.source), ["fake"]);
      } finally {
        await client.close();
      }
    } finally {
      await server.kill();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
