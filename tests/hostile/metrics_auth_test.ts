/**
 * GET /metrics is deployment-wide telemetry (issue #18, item 6): only the scraper's
 * METRICS_TOKEN or a JWT with `ops:read` may read it; tenant keys and scope-less JWTs
 * get 403, no token 401. The deprecated push on POST /metrics keeps its own scope.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { loadAppConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { composeApp } from "../../runtime/compose_app.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { metricRow } from "../support/test_app.ts";

const KEY = "tenant-key-0001";
const METRICS_TOKEN = "scraper-token-0123456789";
const JWT_SECRET = "a-test-secret-that-is-long-enough-0123456789";

async function jwt(claims: Record<string, unknown>): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));
}

Deno.test("GET /metrics: operators only (METRICS_TOKEN or ops:read), tenants 403", async () => {
  const db = await pgliteDatabase();
  try {
    const { app } = composeApp({
      config: loadAppConfig({ API_KEY: `tenant-a:${KEY}`, JWT_SECRET, METRICS_TOKEN }),
      store: new SqlMetricsStore(db.driver),
      journal: new IngestJournal(db.driver),
      logger: silentLogger,
      telemetry: new Registry(),
      clock: () => new Date(),
    });
    const scrape = (token?: string) =>
      app.request("/metrics", { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    const statusOf = async (token?: string) => {
      const response = await scrape(token);
      await response.body?.cancel();
      return response.status;
    };

    assert.equal(await statusOf(), 401);
    assert.equal(await statusOf("not-a-known-token-at-all"), 401);
    assert.equal(await statusOf(KEY), 403, "a tenant API key");
    assert.equal(await statusOf(await jwt({ tenant: "tenant-a" })), 403, "a JWT without scope");
    assert.equal(
      await statusOf(await jwt({ tenant: "tenant-a", scope: "insights:read metrics:write" })),
      403,
    );
    assert.equal(await statusOf(`${METRICS_TOKEN}x`), 401, "a near miss is no operator");

    const byToken = await scrape(METRICS_TOKEN);
    assert.equal(byToken.status, 200);
    assert.match(await byToken.text(), /http_requests_total/);
    const byScope = await scrape(await jwt({ tenant: "ops", scope: "ops:read" }));
    assert.equal(byScope.status, 200);
    await byScope.body?.cancel();

    // The push shares the path, not the rule: a tenant key still writes rows.
    const push = await app.request("/metrics", {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify([metricRow({ ts: new Date().toISOString() })]),
    });
    assert.equal(push.status, 200);
    assert.equal((await push.json()).accepted, 1);
    const byMetricsToken = await app.request("/metrics", {
      method: "POST",
      headers: { Authorization: `Bearer ${METRICS_TOKEN}`, "Content-Type": "application/json" },
      body: "[]",
    });
    assert.equal(byMetricsToken.status, 401, "the scraper token cannot push");
    await byMetricsToken.body?.cancel();
  } finally {
    await db.dispose();
  }
});

Deno.test("METRICS_TOKEN: too short is a configuration error naming it", () => {
  assert.throws(() => loadAppConfig({ METRICS_TOKEN: "short" }), /METRICS_TOKEN/);
});
