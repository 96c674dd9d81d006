/**
 * One conformance suite for MetricsStore, run on every engine: PGlite always, the
 * PostgreSQL server when TEST_DATABASE_URL is set (always in CI).
 */
import assert from "node:assert/strict";
import { ENGINES, type TestDatabase } from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { InvalidCursorError, type SumsRow } from "../../lib/store/metrics_store.ts";
import type { MetricRowInput } from "../../lib/schema.ts";
import { normalizeDecimal, sumDecimals } from "../../lib/decimal.ts";
import { shiftDate, startOfDayIn } from "../../lib/dates.ts";

function row(overrides: Partial<MetricRowInput> = {}): MetricRowInput {
  return {
    tenant_id: "acme",
    platform: "google",
    account_id: "111",
    campaign_id: "cmp-1",
    campaign_name: "Spring Sale",
    ts: "2024-04-01T00:00:00Z",
    impressions: 1000,
    clicks: 50,
    conversions: "2.5",
    cost: "10.10",
    revenue: "40.40",
    currency: "USD",
    source: "test",
    ...overrides,
  };
}

/** Sums with trailing zeros removed, so "10.10" and "10.1" compare equal. */
function normalized(sums: SumsRow | undefined) {
  assert.ok(sums, "expected a sums row");
  return {
    currency: sums.currency,
    impressions: sums.impressions,
    clicks: sums.clicks,
    conversions: normalizeDecimal(sums.conversions),
    cost: normalizeDecimal(sums.cost),
    revenue: normalizeDecimal(sums.revenue),
  };
}

const at = (iso: string) => new Date(iso);

for (const engine of ENGINES) {
  Deno.test({
    name: `MetricsStore conformance on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db: TestDatabase = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      try {
        await t.step("the same batch twice gives the same totals (idempotent upsert)", async () => {
          const batch = [row(), row({ ts: "2024-04-01T01:00:00Z" })];
          await store.upsert(batch);
          const first = await store.totals({ tenantId: "acme" });
          await store.upsert(batch);
          const second = await store.totals({ tenantId: "acme" });
          assert.deepEqual(second, first);
          assert.deepEqual(normalized(second.totals[0]), {
            currency: "USD",
            impressions: "2000",
            clicks: "100",
            conversions: "5",
            cost: "20.2",
            revenue: "80.8",
          });
        });

        await t.step("a restated row replaces the old numbers, everywhere", async () => {
          await store.upsert([row({ impressions: 1500, cost: "12.00" })]);
          const totals = await store.totals({ tenantId: "acme" });
          assert.equal(totals.totals[0].impressions, "2500");
          assert.equal(normalizeDecimal(totals.totals[0].cost), "22.1");
          const ranked = await store.rank({ tenantId: "acme" }, {
            groupBy: "campaign",
            metric: "impressions",
            order: "desc",
            limit: 5,
          });
          assert.equal(ranked[0].impressions, "2500", "campaign rollup follows the restatement");
          const series = await store.series({ tenantId: "acme" }, "day");
          assert.equal(series[0].impressions, "2500", "daily rollup follows the restatement");
        });

        await t.step("duplicates inside one batch: the last one wins", async () => {
          await store.upsert([
            row({ tenant_id: "dup", impressions: 1 }),
            row({ tenant_id: "dup", impressions: 7 }),
          ]);
          const totals = await store.totals({ tenantId: "dup" });
          assert.equal(totals.totals[0].impressions, "7");
        });

        await t.step("bad rows are rejected with reasons; the good ones stored", async () => {
          const result = await store.upsert([
            row({ tenant_id: "bad", campaign_id: "ok-1" }),
            row({ tenant_id: "bad", clicks: -3 }),
            { ...row({ tenant_id: "bad" }), currency: "DOLLARS" },
            row({ tenant_id: "bad", campaign_id: "ok-2" }),
          ]);
          assert.equal(result.accepted, 2);
          assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [
            [1, "clicks"],
            [2, "currency"],
          ]);
          const totals = await store.totals({ tenantId: "bad" });
          assert.equal(totals.totals[0].impressions, "2000");
        });

        await t.step("per-platform breakdown and platform filters", async () => {
          await store.upsert([
            row({ tenant_id: "multi", platform: "google", impressions: 100 }),
            row({ tenant_id: "multi", platform: "meta", account_id: "act9", impressions: 30 }),
            row({ tenant_id: "multi", platform: "tiktok", account_id: "t1", impressions: 5 }),
          ]);
          const totals = await store.totals({ tenantId: "multi" });
          assert.deepEqual(
            totals.by_platform.map((p) => [p.platform, p.impressions]),
            [["google", "100"], ["meta", "30"], ["tiktok", "5"]],
          );
          assert.equal(totals.totals[0].impressions, "135");
          const metaOnly = await store.totals({ tenantId: "multi", platforms: ["meta"] });
          assert.equal(metaOnly.totals[0].impressions, "30");
          assert.deepEqual(metaOnly.by_platform.map((p) => p.platform), ["meta"]);
        });

        await t.step("tenant isolation: tenant B never sees tenant A's rows", async () => {
          await store.upsert([row({ tenant_id: "tenant-a", campaign_id: "secret" })]);
          const b = await store.totals({ tenantId: "tenant-b" });
          assert.deepEqual(b, { totals: [], by_platform: [] });
          assert.deepEqual(await store.findCampaign("tenant-b", "secret"), []);
          assert.equal((await store.findCampaign("tenant-a", "secret")).length, 1);
          const list = await store.listCampaigns({ tenantId: "tenant-b" });
          assert.deepEqual(list.items, []);
          assert.deepEqual(await store.latestCampaigns("tenant-b"), []);
          const ranked = await store.rank({ tenantId: "tenant-b" }, {
            groupBy: "campaign",
            metric: "cost",
            order: "desc",
            limit: 10,
          });
          assert.deepEqual(ranked, []);
        });

        await t.step("mixed currencies are kept apart", async () => {
          await store.upsert([
            row({ tenant_id: "fx", account_id: "us", cost: "10.00", currency: "USD" }),
            row({
              tenant_id: "fx",
              account_id: "eu",
              campaign_id: "cmp-2",
              cost: "7.00",
              currency: "EUR",
            }),
          ]);
          const totals = await store.totals({ tenantId: "fx" });
          assert.deepEqual(
            totals.totals.map((s) => [s.currency, normalizeDecimal(s.cost)]),
            [["EUR", "7"], ["USD", "10"]],
          );
          const eur = await store.totals({ tenantId: "fx", currency: "EUR" });
          assert.deepEqual(eur.totals.map((s) => s.currency), ["EUR"]);
        });

        await t.step("series buckets by day, week (Monday) and month, in a zone", async () => {
          const tenant = "series";
          await store.upsert([
            row({ tenant_id: tenant, ts: "2024-03-31T23:30:00Z", impressions: 1 }), // Sun
            row({ tenant_id: tenant, ts: "2024-04-01T10:00:00Z", impressions: 2 }), // Mon
            row({ tenant_id: tenant, ts: "2024-04-07T12:00:00Z", impressions: 4 }), // Sun
            row({ tenant_id: tenant, ts: "2024-04-08T00:00:00Z", impressions: 8 }), // Mon
          ]);
          const days = await store.series({ tenantId: tenant }, "day");
          assert.deepEqual(days.map((d) => [d.bucket, d.impressions]), [
            ["2024-03-31", "1"],
            ["2024-04-01", "2"],
            ["2024-04-07", "4"],
            ["2024-04-08", "8"],
          ]);
          const weeks = await store.series({ tenantId: tenant }, "week");
          assert.deepEqual(weeks.map((d) => [d.bucket, d.impressions]), [
            ["2024-03-25", "1"],
            ["2024-04-01", "6"],
            ["2024-04-08", "8"],
          ]);
          const months = await store.series({ tenantId: tenant }, "month");
          assert.deepEqual(months.map((d) => [d.bucket, d.impressions]), [
            ["2024-03-01", "1"],
            ["2024-04-01", "14"],
          ]);
          // In New York the Sunday 23:30 UTC row is still Sunday afternoon and the
          // Monday 00:00 UTC row is Sunday evening.
          const nyDays = await store.series({ tenantId: tenant }, "day", "America/New_York");
          assert.deepEqual(nyDays.map((d) => [d.bucket, d.impressions]), [
            ["2024-03-31", "1"],
            ["2024-04-01", "2"],
            ["2024-04-07", "12"],
          ]);
          // Kolkata is UTC+5:30: its days do not start on UTC hours, so raw rows answer.
          const kolkata = await store.series({ tenantId: tenant }, "day", "Asia/Kolkata");
          assert.deepEqual(kolkata.map((d) => [d.bucket, d.impressions]), [
            ["2024-04-01", "3"],
            ["2024-04-07", "4"],
            ["2024-04-08", "8"],
          ]);
          const bounded = await store.series({
            tenantId: tenant,
            from: at("2024-04-01T00:00:00Z"),
            to: at("2024-04-08T00:00:00Z"),
          }, "day");
          assert.deepEqual(bounded.map((d) => d.bucket), ["2024-04-01", "2024-04-07"]);
        });

        await t.step("ranking campaigns and platforms by a ratio, nulls last", async () => {
          const tenant = "rank";
          await store.upsert([
            row({
              tenant_id: tenant,
              campaign_id: "a",
              campaign_name: "A",
              cost: "10",
              revenue: "50",
            }),
            row({
              tenant_id: tenant,
              campaign_id: "b",
              campaign_name: "B",
              cost: "10",
              revenue: "20",
            }),
            row({
              tenant_id: tenant,
              campaign_id: "c",
              campaign_name: "C",
              cost: "0",
              revenue: "0",
            }),
            row({
              tenant_id: tenant,
              campaign_id: "d",
              platform: "meta",
              cost: "10",
              revenue: "30",
            }),
          ]);
          const best = await store.rank({ tenantId: tenant }, {
            groupBy: "campaign",
            metric: "roas",
            order: "desc",
            limit: 10,
          });
          assert.deepEqual(best.map((r) => r.campaign_id), ["a", "d", "b", "c"]);
          assert.equal(best[0].campaign_name, "A");
          const worst = await store.rank({ tenantId: tenant }, {
            groupBy: "campaign",
            metric: "roas",
            order: "asc",
            limit: 2,
          });
          assert.deepEqual(worst.map((r) => r.campaign_id), ["b", "d"]);
          const platforms = await store.rank({ tenantId: tenant }, {
            groupBy: "platform",
            metric: "roas",
            order: "desc",
            limit: 2,
          });
          // google: (50 + 20 + 0) / (10 + 10 + 0) = 3.5 beats meta's 30 / 10 = 3.
          assert.deepEqual(platforms.map((r) => r.platform), ["google", "meta"]);
        });

        await t.step(
          "listing: filter, name search, sort by latest or spend, cursor pages",
          async () => {
            const tenant = "list";
            await store.upsert([
              row({
                tenant_id: tenant,
                campaign_id: "c1",
                campaign_name: "Spring Promo 2024 – Retargeting",
                ts: "2024-03-01T00:00:00Z",
                cost: "5",
              }),
              row({
                tenant_id: tenant,
                campaign_id: "c2",
                campaign_name: "Summer_Sale 50%",
                ts: "2024-04-01T00:00:00Z",
                cost: "50",
              }),
              row({
                tenant_id: tenant,
                campaign_id: "c3",
                campaign_name: "Brand",
                ts: "2024-02-01T00:00:00Z",
                cost: "20",
                platform: "meta",
              }),
            ]);
            await store.upsertCampaigns([{
              tenant_id: tenant,
              platform: "google",
              account_id: "111",
              campaign_id: "c1",
              status: "PAUSED",
              started_at: at("2024-04-10T00:00:00Z"),
            }]);
            const latest = await store.listCampaigns({ tenantId: tenant });
            assert.deepEqual(latest.items.map((c) => c.campaign_id), ["c1", "c2", "c3"]);
            assert.equal(latest.items[0].status, "PAUSED");
            assert.equal(latest.items[0].name, "Spring Promo 2024 – Retargeting");
            const bySpend = await store.listCampaigns({ tenantId: tenant, sort: "spend" });
            assert.deepEqual(bySpend.items.map((c) => c.campaign_id), ["c2", "c3", "c1"]);
            assert.equal(normalizeDecimal(bySpend.items[0].lifetime[0].cost), "50");
            const search = await store.listCampaigns({ tenantId: tenant, q: "spring promo" });
            assert.deepEqual(search.items.map((c) => c.campaign_id), ["c1"]);
            const literal = await store.listCampaigns({ tenantId: tenant, q: "_sale 50%" });
            assert.deepEqual(
              literal.items.map((c) => c.campaign_id),
              ["c2"],
              "LIKE wildcards are literal",
            );
            const metaOnly = await store.listCampaigns({ tenantId: tenant, platforms: ["meta"] });
            assert.deepEqual(metaOnly.items.map((c) => c.campaign_id), ["c3"]);
            for (const sort of ["latest", "spend"] as const) {
              const seen: string[] = [];
              let cursor: string | undefined;
              do {
                const page = await store.listCampaigns({
                  tenantId: tenant,
                  sort,
                  limit: 1,
                  cursor,
                });
                seen.push(...page.items.map((c) => c.campaign_id));
                cursor = page.next_cursor ?? undefined;
              } while (cursor);
              const all = await store.listCampaigns({ tenantId: tenant, sort });
              assert.deepEqual(seen, all.items.map((c) => c.campaign_id), `pages of ${sort}`);
            }
            await assert.rejects(
              () => store.listCampaigns({ tenantId: tenant, cursor: "not-a-cursor" }),
              InvalidCursorError,
            );
            const spendCursor =
              (await store.listCampaigns({ tenantId: tenant, sort: "spend", limit: 1 }))
                .next_cursor;
            await assert.rejects(
              () => store.listCampaigns({ tenantId: tenant, sort: "latest", cursor: spendCursor! }),
              InvalidCursorError,
              "a cursor of another sort is refused",
            );
            const newest = await store.latestCampaigns(tenant);
            assert.deepEqual(newest.map((c) => [c.platform, c.campaign_id]), [
              ["google", "c1"],
              ["meta", "c3"],
            ]);
            const newestMeta = await store.latestCampaigns(tenant, ["meta"]);
            assert.deepEqual(newestMeta.map((c) => c.campaign_id), ["c3"]);
          },
        );

        await t.step("rollup answers equal raw sums for ragged and aligned ranges", async () => {
          const tenant = "rollup";
          const rows: MetricRowInput[] = [];
          let seed = 7;
          const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
          for (let hour = 0; hour < 24 * 75; hour += 5) {
            for (const [platform, campaign] of [["google", "g1"], ["meta", "m1"], ["meta", "m2"]]) {
              rows.push(row({
                tenant_id: tenant,
                platform,
                account_id: platform,
                campaign_id: campaign,
                ts: new Date(Date.UTC(2024, 0, 20) + hour * 3_600_000).toISOString(),
                impressions: Math.floor(next() * 10000),
                clicks: Math.floor(next() * 100),
                cost: (Math.floor(next() * 100000) / 100).toFixed(2),
                revenue: (Math.floor(next() * 300000) / 100).toFixed(2),
              }));
            }
          }
          await store.upsert(rows);
          const ranges: [string, string][] = [
            ["2024-01-25T05:00:00Z", "2024-03-10T17:00:00Z"],
            ["2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"],
            ["2024-02-10T00:00:00Z", "2024-02-10T13:00:00Z"],
            ["2024-01-31T22:00:00Z", "2024-02-01T03:00:00Z"],
          ];
          for (const [from, to] of ranges) {
            const inRange = rows.filter((r) => {
              const ts = new Date(r.ts as string).getTime();
              return ts >= at(from).getTime() && ts < at(to).getTime();
            });
            const expectedCost = normalizeDecimal(
              sumDecimals(inRange.map((r) => r.cost as string)),
            );
            const totals = await store.totals({ tenantId: tenant, from: at(from), to: at(to) });
            assert.equal(normalizeDecimal(totals.totals[0].cost), expectedCost, `${from}..${to}`);
            const byCampaign = await store.rank({ tenantId: tenant, from: at(from), to: at(to) }, {
              groupBy: "campaign",
              metric: "cost",
              order: "desc",
              limit: 10,
            });
            const ranked = normalizeDecimal(sumDecimals(byCampaign.map((r) => r.cost)));
            assert.equal(ranked, expectedCost, `campaign ranking ${from}..${to}`);
            const m1 = normalizeDecimal(sumDecimals(
              inRange.filter((r) => r.campaign_id === "m1").map((r) => r.cost as string),
            ));
            const one = await store.totals({
              tenantId: tenant,
              campaignIds: ["m1"],
              from: at(from),
              to: at(to),
            });
            assert.equal(normalizeDecimal(one.totals[0].cost), m1);
          }
          // One whole month is ranked from the rollup rows directly: same order and sums
          // as computing ROAS from the raw rows by hand.
          const february = rows.filter((r) => (r.ts as string).startsWith("2024-02"));
          const expectedOrder = ["g1", "m1", "m2"].map((campaign) => {
            const mine = february.filter((r) => r.campaign_id === campaign);
            const revenue = Number(sumDecimals(mine.map((r) => r.revenue as string)));
            const cost = Number(sumDecimals(mine.map((r) => r.cost as string)));
            return { campaign, roas: revenue / cost };
          }).sort((a, b) => b.roas - a.roas).map((entry) => entry.campaign);
          const rankedFebruary = await store.rank({
            tenantId: tenant,
            from: at("2024-02-01T00:00:00Z"),
            to: at("2024-03-01T00:00:00Z"),
          }, { groupBy: "campaign", metric: "roas", order: "desc", limit: 3 });
          assert.deepEqual(rankedFebruary.map((r) => r.campaign_id), expectedOrder);
          const m2February = normalizeDecimal(sumDecimals(
            february.filter((r) => r.campaign_id === "m2").map((r) => r.cost as string),
          ));
          assert.equal(
            normalizeDecimal(rankedFebruary.find((r) => r.campaign_id === "m2")!.cost),
            m2February,
          );
          // Days in New York (whole-hour offsets, DST included) from the hourly rollup
          // equal the same days summed from raw rows by hand.
          const ny = await store.series(
            {
              tenantId: tenant,
              from: at("2024-03-05T05:00:00Z"),
              to: at("2024-03-15T04:00:00Z"),
            },
            "day",
            "America/New_York",
          );
          for (const day of ny) {
            const start = startOfDayIn(day.bucket, "America/New_York").getTime();
            const end = startOfDayIn(shiftDate(day.bucket, 1), "America/New_York").getTime();
            const expected = normalizeDecimal(sumDecimals(
              rows.filter((r) => {
                const ts = new Date(r.ts as string).getTime();
                return ts >= start && ts < end && ts >= at("2024-03-05T05:00:00Z").getTime() &&
                  ts < at("2024-03-15T04:00:00Z").getTime();
              }).map((r) => r.cost as string),
            ));
            assert.equal(normalizeDecimal(day.cost), expected, `NY ${day.bucket}`);
          }
          assert.equal(ny.length, 10);
        });

        await t.step("money stays exact: 10,000 rows of 0.10 sum to 1000.00", async () => {
          const tenant = "exact";
          const rows = Array.from({ length: 10_000 }, (_, i) =>
            row({
              tenant_id: tenant,
              ts: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
              cost: "0.10",
              revenue: "0.10",
            }));
          const result = await store.upsert(rows);
          assert.equal(result.accepted, 10_000);
          const totals = await store.totals({ tenantId: tenant });
          assert.equal(totals.totals[0].cost, "1000.00");
          const lifetime = (await store.findCampaign(tenant, "cmp-1"))[0].lifetime[0];
          assert.equal(lifetime.cost, "1000.00");
        });
      } finally {
        await db.dispose();
      }
    },
  });
}
