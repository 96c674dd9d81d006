/**
 * Reporting currency end to end (HTTP app over a real database, PGlite and PostgreSQL):
 * every converted figure below is worked out by hand from the rates and rows in this
 * file, and the answers must match to the cent.
 *
 * Rates (tenant-a, base EUR):          EUR→USD   EUR→GBP
 *   Fri 2024-04-05                     1.0850    0.8550
 *   Mon 2024-04-08                     1.0800    0.8600
 *   Fri 2024-04-12                     1.0700    (none)
 * Sat 2024-04-06 and Sun 04-07 have no rates: Friday's apply.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { auth, KEY_A, KEY_B, metricRow, testApp } from "../support/test_app.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { fxRatesHttp } from "../../handlers/fx_rates.ts";
import { CachedReader } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { silentLogger } from "../../lib/log.ts";

const RATES = [
  { date: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0850" },
  { date: "2024-04-05", base: "EUR", quote: "GBP", rate: "0.8550" },
  { date: "2024-04-08", base: "EUR", quote: "USD", rate: "1.0800" },
  { date: "2024-04-08", base: "EUR", quote: "GBP", rate: "0.8600" },
  { date: "2024-04-12", base: "EUR", quote: "USD", rate: "1.0700" },
];

const ROWS = [
  // USD, google: never touched when reporting in USD.
  {
    campaign_id: "cmp-us",
    platform: "google",
    account_id: "g1",
    currency: "USD",
    ts: "2024-04-05T10:00:00Z",
    cost: "100.00",
    revenue: "300.00",
  },
  {
    campaign_id: "cmp-us",
    platform: "google",
    account_id: "g1",
    currency: "USD",
    ts: "2024-04-06T10:00:00Z",
    cost: "50.00",
    revenue: "0",
  },
  // EUR, meta: Friday, Saturday (Friday's rate), Monday.
  {
    campaign_id: "cmp-eu",
    platform: "meta",
    account_id: "m1",
    currency: "EUR",
    ts: "2024-04-05T10:00:00Z",
    cost: "10.00",
    revenue: "40.00",
  },
  {
    campaign_id: "cmp-eu",
    platform: "meta",
    account_id: "m1",
    currency: "EUR",
    ts: "2024-04-06T10:00:00Z",
    cost: "20.00",
    revenue: "10.00",
  },
  {
    campaign_id: "cmp-eu",
    platform: "meta",
    account_id: "m1",
    currency: "EUR",
    ts: "2024-04-08T10:00:00Z",
    cost: "5.00",
    revenue: "5.00",
  },
  // GBP, linkedin: cross rate GBP→USD = 1.08 / 0.86 on Monday.
  {
    campaign_id: "cmp-uk",
    platform: "linkedin",
    account_id: "l1",
    currency: "GBP",
    ts: "2024-04-08T10:00:00Z",
    cost: "30.00",
    revenue: "60.00",
  },
];

const RANGE = "from=2024-04-05&to=2024-04-08";

for (const engine of ENGINES) {
  Deno.test({
    name: `reporting currency on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const fx = new SqlFxStore(db.driver);
      const reader = new CachedReader({ cache: new MemoryCache(), logger: silentLogger });
      const { app, store } = await testApp({
        db,
        cache: reader,
        overrides: { fx },
        extensions: [fxRatesHttp({ fx, invalidate: (tenant) => reader.bumpDataVersion(tenant) })],
      });
      const get = async (path: string, key = KEY_A) => {
        const response = await app.request(path, { headers: auth(key) });
        return { status: response.status, body: await response.json() };
      };
      const post = async (path: string, body: string, type = "application/json") => {
        const response = await app.request(path, {
          method: "POST",
          headers: { ...auth(KEY_A), "Content-Type": type },
          body,
        });
        return { status: response.status, body: await response.json() };
      };
      const write = async (rows: typeof ROWS, tenant = "tenant-a") => {
        const result = await store.upsert(
          rows.map((row) => metricRow({ ...row, tenant_id: tenant })),
        );
        assert.equal(result.rejected.length, 0, JSON.stringify(result.rejected));
        await reader.bumpDataVersion(tenant);
      };
      try {
        await write(ROWS);
        await write(ROWS.filter((row) => row.currency === "EUR"), "tenant-b");

        await t.step("rates are stored through POST /fx-rates and listed", async () => {
          const stored = await post("/fx-rates", JSON.stringify(RATES));
          assert.equal(stored.status, 200);
          assert.deepEqual(stored.body, { accepted: 5, rejected: [] });
          const listed = await get("/fx-rates?base=EUR&quote=USD&from=2024-04-06");
          assert.deepEqual(
            listed.body.rates.map((r: { date: string; rate: string }) => [r.date, r.rate]),
            [
              ["2024-04-08", "1.0800"],
              ["2024-04-12", "1.0700"],
            ],
          );
          assert.equal(listed.body.rates[0].source, "api");
        });

        await t.step("without currency=: unchanged, money stays apart", async () => {
          const { body } = await get(`/insights?${RANGE}`);
          assert.equal(body.currency, null);
          assert.equal(body.totals.cost, null);
          assert.deepEqual(
            body.by_currency.map((c: { currency: string }) => c.currency),
            ["USD", "EUR", "GBP"].sort(),
          );
          assert.equal(body.fx, undefined);
        });

        await t.step(
          "totals in USD: each day at its rate, weekend at Friday's, GBP by cross rate",
          async () => {
            const { status, body } = await get(`/insights?${RANGE}&currency=USD`);
            assert.equal(status, 200, JSON.stringify(body));
            assert.equal(body.currency, "USD");
            // USD 150.00 + EUR (10×1.085 + 20×1.085 + 5×1.08 = 37.95) + GBP 30×1.08/0.86 (37.6744186…)
            assert.equal(body.totals.cost, 225.62);
            // USD 300.00 + EUR (43.40 + 10.85 + 5.40 = 59.65) + GBP 60×1.08/0.86 (75.3488372…)
            assert.equal(body.totals.revenue, 435);
            // ROAS from the converted sums: 434.99883720930… / 225.62441860465…
            assert.equal(
              body.totals.roas,
              Number((434.998837209302 / 225.624418604651).toFixed(6)),
            );
            assert.equal(body.totals.impressions, 6000);
            assert.equal(body.by_currency, undefined);
            assert.deepEqual(body.fx, {
              currency: "USD",
              converted: [{ from: "EUR", paths: ["direct"] }, { from: "GBP", paths: ["via EUR"] }],
              rate_days: { first: "2024-04-05", last: "2024-04-08" },
              rate_sources: ["api"],
            });
          },
        );

        await t.step("inverse rates: the same totals in EUR", async () => {
          const { body } = await get(`/insights?${RANGE}&currency=EUR`);
          // USD 100/1.085 + 50/1.085 (138.2488479…) + EUR 35.00 + GBP 30/0.86 (34.8837209…)
          assert.equal(body.totals.cost, 208.13);
          // USD 300/1.085 (276.4976958…) + EUR 55.00 + GBP 60/0.86 (69.7674418…)
          assert.equal(body.totals.revenue, 401.27);
          assert.deepEqual(body.fx.converted, [
            { from: "GBP", paths: ["inverse"] },
            { from: "USD", paths: ["inverse"] },
          ]);
        });

        await t.step("group_by platform and campaign, ordered by converted money", async () => {
          const platforms = await get(`/insights?${RANGE}&currency=USD&group_by=platform`);
          assert.deepEqual(
            platforms.body.groups.map((
              g: Record<string, unknown>,
            ) => [g.platform, g.currency, g.cost, g.revenue]),
            [["google", "USD", 150, 300], ["meta", "USD", 37.95, 59.65], [
              "linkedin",
              "USD",
              37.67,
              75.35,
            ]],
          );
          const campaigns = await get(
            `/insights?${RANGE}&currency=USD&group_by=campaign&order_by=cost&order=desc`,
          );
          assert.deepEqual(
            campaigns.body.groups.map((
              g: Record<string, unknown>,
            ) => [g.campaign_id, g.cost, g.roas]),
            [
              ["cmp-us", 150, 2],
              ["cmp-eu", 37.95, Number((59.65 / 37.95).toFixed(6))],
              ["cmp-uk", 37.67, 2],
            ],
          );
          assert.equal(campaigns.body.groups[0].campaign_name, "Spring Sale");
          // Ranked on converted money: in GBP, cmp-eu (10 × 0.855 + 20 × 0.855 + 5 × 0.86 =
          // 29.95) is cheaper than cmp-uk (30.00), although 35 EUR > 30 GBP as numbers.
          const cheapest = await get(
            `/insights?${RANGE}&currency=GBP&group_by=campaign&order_by=cost&order=asc&limit=1`,
          );
          assert.deepEqual(
            cheapest.body.groups.map((g: Record<string, unknown>) => [g.campaign_id, g.cost]),
            [["cmp-eu", 29.95]],
          );
        });

        await t.step("group_by day and week", async () => {
          const days = await get(`/insights?${RANGE}&currency=USD&group_by=day`);
          assert.deepEqual(
            days.body.groups.map((
              g: Record<string, unknown>,
            ) => [g.bucket, g.currency, g.cost, g.revenue]),
            [
              ["2024-04-05", "USD", 110.85, 343.4],
              ["2024-04-06", "USD", 71.7, 10.85],
              ["2024-04-08", "USD", 43.07, 80.75],
            ],
          );
          const weeks = await get(`/insights?${RANGE}&currency=USD&group_by=week`);
          assert.deepEqual(
            weeks.body.groups.map((g: Record<string, unknown>) => [g.bucket, g.cost]),
            [["2024-04-01", 182.55], ["2024-04-08", 43.07]],
          );
        });

        await t.step("campaign insights and /campaigns lifetime totals convert too", async () => {
          const { body } = await get(
            `/campaign/cmp-eu/insights?${RANGE}&currency=USD&granularity=day`,
          );
          assert.equal(body.currency, "USD");
          assert.equal(body.totals.cost, 37.95);
          assert.deepEqual(body.series.map((p: Record<string, unknown>) => [p.bucket, p.cost]), [
            ["2024-04-05", 10.85],
            ["2024-04-06", 21.7],
            ["2024-04-08", 5.4],
          ]);
          assert.deepEqual(
            body.by_platform.map((p: Record<string, unknown>) => [p.platform, p.cost]),
            [["meta", 37.95]],
          );
          const page = await get("/campaigns?currency=USD");
          const eu = page.body.campaigns.find((c: { campaign_id: string }) =>
            c.campaign_id === "cmp-eu"
          );
          assert.equal(eu.currency, "EUR");
          assert.equal(eu.totals.cost, 37.95);
          assert.equal(page.body.fx.currency, "USD");
        });

        await t.step(
          "a restated row after conversion: the new value at its day's rate",
          async () => {
            const before = await get(`/insights?${RANGE}&currency=USD`);
            assert.equal(before.body.totals.cost, 225.62);
            await write([{ ...ROWS[3], cost: "30.00" }]); // Saturday: 20.00 → 30.00 EUR
            const after = await get(`/insights?${RANGE}&currency=USD`);
            // 225.6244186… + 10 × 1.085
            assert.equal(after.body.totals.cost, 236.47);
          },
        );

        await t.step("time zone: the day in the query's zone picks the rate", async () => {
          await write([{
            campaign_id: "cmp-tz",
            platform: "tiktok",
            account_id: "t1",
            currency: "EUR",
            ts: "2024-04-12T02:00:00Z", // Thursday 22:00 in New York
            cost: "100.00",
            revenue: "0",
          }]);
          const utc = await get(
            "/insights?from=2024-04-09&to=2024-04-12&platform=tiktok&currency=USD",
          );
          assert.equal(utc.body.totals.cost, 107); // Friday's 1.07
          const ny = await get(
            "/insights?from=2024-04-09&to=2024-04-12&platform=tiktok&currency=USD&tz=America/New_York",
          );
          assert.equal(ny.body.totals.cost, 108); // Thursday: Monday's 1.08
          assert.deepEqual(ny.body.fx.rate_days, { first: "2024-04-08", last: "2024-04-08" });
          const byId = await get(
            "/insights?from=2024-04-09&to=2024-04-12&campaign_id=cmp-tz&currency=USD&tz=America/New_York&group_by=day",
          );
          assert.deepEqual(
            byId.body.groups.map((g: Record<string, unknown>) => [g.bucket, g.cost]),
            [["2024-04-11", 108]],
          );
          // India (+5:30) is not a whole-hour zone: read from raw rows, same rule.
          const india = await get(
            "/insights?from=2024-04-09&to=2024-04-12&platform=tiktok&currency=USD&tz=Asia/Kolkata",
          );
          assert.equal(india.body.totals.cost, 107);
        });

        await t.step("a missing rate is a 422 naming the pair and the day", async () => {
          await write([{ ...ROWS[2], ts: "2024-04-20T10:00:00Z" }]); // 8 days after the last rate
          const { status, body } = await get(
            "/insights?from=2024-04-19&to=2024-04-21&currency=USD",
          );
          assert.equal(status, 422);
          assert.equal(body.field, "currency");
          assert.match(body.error, /EUR→USD/);
          assert.match(body.error, /2024-04-20/);
          const gbp = await get(`/insights?${RANGE}&currency=JPY`);
          assert.equal(gbp.status, 422);
          assert.match(gbp.body.error, /→JPY/);
        });

        await t.step("rates of tenant A never apply to tenant B", async () => {
          const { status, body } = await get(`/insights?${RANGE}&currency=USD`, KEY_B);
          assert.equal(status, 422);
          assert.match(body.error, /EUR→USD exchange rate for 2024-04-05/);
          const rates = await get("/fx-rates", KEY_B);
          assert.deepEqual(rates.body.rates, []);
        });

        await t.step("an fx-rates write refreshes cached converted answers", async () => {
          const first = await get(`/insights?${RANGE}&currency=USD&platform=meta`);
          assert.equal(first.body.totals.cost, 48.8); // 10.85 + 32.55 + 5.40
          const stored = await post(
            "/fx-rates",
            JSON.stringify([{ date: "2024-04-08", base: "EUR", quote: "USD", rate: "1.1" }]),
          );
          assert.equal(stored.body.accepted, 1);
          const second = await get(`/insights?${RANGE}&currency=USD&platform=meta`);
          assert.equal(second.body.totals.cost, 48.9); // Monday now 5 × 1.1
        });

        await t.step(
          "REPORTING_CURRENCY: the deployment's default, overridden per request",
          async () => {
            const deployment = await testApp({ db, overrides: { fx, reportingCurrency: "USD" } });
            const read = async (path: string) =>
              await (await deployment.app.request(path, { headers: auth(KEY_A) })).json();
            const byDefault = await read(`/insights?${RANGE}&platform=google,linkedin`);
            assert.equal(byDefault.currency, "USD");
            assert.equal(byDefault.totals.cost, 188.37); // 150.00 + 30 × 1.1 / 0.86 (Monday restated)
            const inGbp = await read(`/insights?${RANGE}&platform=google,linkedin&currency=GBP`);
            assert.equal(inGbp.currency, "GBP");
            // 100 × 0.855/1.085 + 50 × 0.855/1.085 (Saturday: Friday's) + 30.00
            assert.equal(inGbp.totals.cost, 148.2);
            assert.deepEqual(inGbp.fx.converted, [{ from: "USD", paths: ["via EUR"] }]);
            // currency=native: money in its own currencies despite the deployment's default.
            for (const native of ["native", "NATIVE"]) {
              const own = await read(
                `/insights?${RANGE}&platform=google,linkedin&currency=${native}`,
              );
              assert.equal(own.currency, null);
              assert.equal(own.totals.cost, null);
              assert.equal(own.fx, undefined);
              assert.deepEqual(
                own.by_currency.map((
                  c: { currency: string; cost: number },
                ) => [c.currency, c.cost]),
                [["GBP", 30], ["USD", 150]],
              );
              const series = await read(
                `/campaign/cmp-us/insights?${RANGE}&granularity=hour&currency=${native}`,
              );
              assert.equal(series.currency, "USD");
              assert.equal(series.fx, undefined);
            }
            const campaigns = await read(`/campaigns?currency=native`);
            assert.equal(campaigns.fx, undefined);
            const bad = await (await deployment.app.request(`/insights?${RANGE}&currency=nativ`, {
              headers: auth(KEY_A),
            })).json();
            assert.equal(bad.field, "currency");
            assert.match(bad.error, /native/);
          },
        );
      } finally {
        await reader.close();
        await db.dispose();
      }
    },
  });
}
