/** `main.ts serve` mounts POST /prompt in-process, behind the API's own bearer auth. */
import assert from "node:assert/strict";
import { startReplica } from "../support/services.ts";

Deno.test({
  name: "serve answers POST /prompt with the API's keys and tenancy",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "serve-prompt-" });
    const server = await startReplica({
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      FAKE_BACKFILL_DAYS: "1",
      FAKE_INTERVAL_MS: "60000",
      INGEST_TENANT: "acme",
      API_KEY: "acme:acme-key-123456,globex:globex-key-123456",
      SLACK_SIGNING_SECRET: "",
    }, { startTimeoutMs: 90_000 });
    try {
      const ask = async (prompt: unknown, key?: string) => {
        const response = await fetch(`${server.base}/prompt`, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            ...(key ? { Authorization: `Bearer ${key}` } : {}),
          },
          body: JSON.stringify({ prompt }),
        });
        return { status: response.status, body: await response.json() };
      };
      assert.equal((await ask("spend this month")).status, 401);
      assert.equal((await ask("", "acme-key-123456")).status, 400);
      // The backfill runs before listening; wait until the data is visible.
      let answer = await ask("how many clicks did we get", "acme-key-123456");
      for (let i = 0; i < 60 && answer.body.data?.result?.totals?.clicks === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        answer = await ask("how many clicks did we get", "acme-key-123456");
      }
      assert.equal(answer.status, 200);
      assert.ok(answer.body.data.result.totals.clicks > 0, answer.body.reply);
      assert.match(
        answer.body.reply,
        /^All your campaigns across all platforms got [\d,]+ clicks over all time/,
      );
      const globex = await ask("how many clicks did we get", "globex-key-123456");
      assert.match(globex.body.reply, /^I found no activity/);
    } finally {
      await server.kill("SIGTERM");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
