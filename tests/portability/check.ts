/**
 * The portability check: runtime-neutral (no Deno or Node globals), it computes KPIs,
 * parses a question, ranks by TF-IDF and opens a PGlite store with the library's
 * documented set-up call, then prints one JSON line. portability_test.ts runs it under
 * Deno and under Node 20 (through tsx) and compares both to expected.json.
 */
import { PGlite } from "@electric-sql/pglite";
import { computeMetrics, cosineSimilarity, parsePrompt, TfidfModel } from "../../mod.ts";
import { MIGRATIONS, openMetricsStore, pgliteDriver } from "../../store.ts";
import { CachedReader, MemoryCache } from "../../cache.ts";

const kpis = computeMetrics({
  impressions: 1000,
  clicks: 25,
  conversions: 2,
  cost: "50.00",
  revenue: "200.00",
});
const parsed = parsePrompt("How much did I spend on LinkedIn ads last week?", {
  now: new Date("2024-05-15T12:00:00Z"),
});
const model = new TfidfModel().fit(["summer sale shoes", "winter boots", "brand awareness video"]);
const query = model.transform("summer shoes");
const nearest = ["summer sale shoes", "winter boots", "brand awareness video"]
  .map((name) => ({ name, score: cosineSimilarity(query, model.transform(name)) }))
  .sort((a, b) => b.score - a.score)[0].name;

const db = await openMetricsStore(pgliteDriver(new PGlite()));
const row = {
  tenant_id: "acme",
  platform: "google",
  account_id: "acc-1",
  campaign_id: "cmp-1",
  impressions: 1000,
  clicks: 25,
  conversions: "1.5",
  cost: "50.10",
  revenue: "200.20",
  currency: "USD",
  source: "portability",
};
const upserted = await db.store.upsert([
  { ...row, ts: "2024-05-01T00:00:00Z" },
  { ...row, ts: "2024-05-02T10:00:00Z", cost: "0.20", clicks: 5 },
]);
const { totals } = await db.store.totals({ tenantId: "acme" });
const reopened = await openMetricsStore(db.driver);
await db.close();

const reader = new CachedReader({ cache: new MemoryCache() });
let computed = 0;
const first = await reader.read("acme", "q", () => Promise.resolve(++computed));
const second = await reader.read("acme", "q", () => Promise.resolve(++computed));
await reader.close();

console.log(JSON.stringify({
  kpis,
  parsed: { metrics: parsed.metrics, platforms: parsed.platforms, date_range: parsed.date_range },
  nearest,
  appliedEveryMigration: db.appliedMigrations.length === MIGRATIONS.length,
  reappliedMigrations: reopened.appliedMigrations,
  accepted: upserted.accepted,
  totals: totals.map((t) => ({
    currency: t.currency,
    impressions: String(t.impressions),
    clicks: String(t.clicks),
    conversions: t.conversions,
    cost: t.cost,
    revenue: t.revenue,
  })),
  cache: [first, second, computed],
}));
