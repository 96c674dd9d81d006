/**
 * `main.ts serve` as a user runs it: a real process on embedded defaults (PGlite,
 * memory cache, fake data), reached over HTTP, stopped with SIGTERM.
 */
import assert from "node:assert/strict";
import { runMain, startReplica, waitFor } from "./support/services.ts";

Deno.test({
  name: "serve with no configuration: never open, fake data flowing, totals growing, clean stop",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "serve-test-" });
    const server = await startReplica({
      DATA_DIR: dataDir,
      FAKE_INTERVAL_MS: "500",
      FAKE_BACKFILL_DAYS: "2",
    });
    try {
      const key = /accepts the generated key (\S+)/.exec(server.output())?.[1];
      assert.ok(key, "a generated key is printed once");
      const base = server.base;
      const open = await fetch(`${base}/campaigns`);
      assert.equal(open.status, 401, "the API is never open");
      await open.body?.cancel();
      const headers = { Authorization: `Bearer ${key}` };
      const totals = async () => {
        const response = await fetch(`${base}/insights`, { headers });
        if (response.status !== 200) {
          await response.body?.cancel();
          return undefined;
        }
        const body = await response.json();
        const impressions = body.by_currency
          ? body.by_currency.reduce(
            (sum: number, c: { impressions: number }) => sum + c.impressions,
            0,
          )
          : body.totals.impressions;
        return impressions > 0 ? impressions as number : undefined;
      };
      const first = await waitFor("fake data", totals);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const second = await waitFor("fake data", totals);
      assert.ok(second > first, `totals grow between two reads 5 s apart (${first} → ${second})`);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
    } finally {
      const status = await server.kill("SIGTERM");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      assert.equal(status.code, 0, `graceful stop:\n${server.output().slice(-2000)}`);
      assert.match(server.output(), /"msg":"stopped"/);
    }
  },
});

Deno.test({
  name: "serve refuses to start on an invalid variable and names it",
  async fn() {
    const result = await runMain(["serve"], { FAKE_INTERVAL_MS: "soon", PORT: "0" });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /FAKE_INTERVAL_MS/);
  },
});
