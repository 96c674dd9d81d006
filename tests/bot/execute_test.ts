/** The executor, intent by intent, against the API app on PGlite with seeded rows. */
import assert from "node:assert/strict";
import {
  type AnalyticsClient,
  AnalyticsError,
  CatalogIndexCache,
  createInProcessAnalyticsClient,
} from "../../lib/bot/client.ts";
import { execute } from "../../lib/bot/execute.ts";
import type { Outcome, OutcomeOf } from "../../lib/bot/outcome.ts";
import { parsePrompt } from "../../lib/bot/parse/parse.ts";
import { KEY_A, KEY_B } from "../support/test_app.ts";
import { NOW, seededApp } from "./fixtures.ts";

function as<K extends Outcome["kind"]>(outcome: Outcome, kind: K): OutcomeOf<K> {
  assert.equal(outcome.kind, kind, JSON.stringify(outcome).slice(0, 400));
  return outcome as OutcomeOf<K>;
}

Deno.test("executor: each intent becomes the right API calls", async (t) => {
  const { app, dispose } = await seededApp();
  const cache = new CatalogIndexCache();
  const run = (prompt: string, key = KEY_A, tenant = "tenant-a", timeZone?: string) =>
    execute(
      parsePrompt(prompt, { now: NOW }),
      createInProcessAnalyticsClient({
        request: (r) => Promise.resolve(app.request(r)),
        token: key,
        tenant,
        catalogCache: cache,
      }),
      { now: NOW, timeZone },
    );
  try {
    await t.step("metric for a campaign id", async () => {
      const outcome = as(await run("cpa for cmp-42 yesterday"), "metric");
      assert.deepEqual(outcome.requests, [
        "/campaign/cmp-42/insights?from=2024-04-23&to=2024-04-23",
      ]);
      assert.deepEqual(outcome.metrics, ["cpa"]);
      assert.equal(outcome.result.totals.impressions, 1000 + 37 * 23);
      assert.deepEqual(outcome.period, { from: "2024-04-23", to: "2024-04-23", basis: "asked" });
    });

    await t.step("metric for the latest campaign of a platform, over its lifetime", async () => {
      const outcome = as(await run("What's the ROAS for my latest Google campaign?"), "metric");
      assert.deepEqual(outcome.requests, [
        "/campaigns?platform=google&sort=latest&limit=1",
        "/campaign/cmp-42/insights?platform=google",
      ]);
      assert.deepEqual(outcome.period, { from: "2024-03-03", to: "2024-04-23", basis: "lifetime" });
      assert.equal(outcome.subject.type === "campaign" && outcome.subject.via, "latest");
    });

    await t.step("metric for a named campaign, typo and all", async () => {
      const outcome = as(await run("roas for the blck fridy campaign"), "metric");
      assert.deepEqual(outcome.requests, [
        "/campaigns?sort=latest&limit=100",
        "/campaign/t-1/insights?platform=tiktok",
      ]);
      assert.equal(outcome.result.totals.roas, Number((29.99 / 17.35).toFixed(6)));
    });

    await t.step("metric across campaigns: spend is the API's cost", async () => {
      const outcome = as(await run("How much did I spend on Google this month?"), "metric");
      assert.deepEqual(outcome.requests, [
        "/insights?from=2024-04-01&to=2024-04-24&platform=google",
      ]);
      assert.deepEqual(outcome.metrics, ["spend"]);
      assert.ok((outcome.result.totals.cost ?? 0) > 0);
    });

    await t.step("no date: lifetime, and the period says so", async () => {
      const outcome = as(await run("how many clicks on tiktok"), "metric");
      assert.deepEqual(outcome.requests, ["/insights?platform=tiktok"]);
      assert.deepEqual(outcome.period, { from: null, to: null, basis: "lifetime" });
    });

    await t.step("trend: daily by default, last 30 days when no date", async () => {
      const outcome = as(await run("show me the ctr trend on google"), "trend");
      assert.deepEqual(outcome.requests, [
        "/insights?from=2024-03-25&to=2024-04-23&platform=google&group_by=day",
      ]);
      assert.deepEqual(outcome.period, {
        from: "2024-03-25",
        to: "2024-04-23",
        basis: "default_window",
        window_days: 30,
      });
      const [summary] = outcome.summaries;
      assert.equal(summary.metric, "ctr");
      assert.equal(summary.first?.bucket, "2024-04-05");
      assert.equal(summary.last?.bucket, "2024-04-23");
      assert.equal(summary.change, Number((summary.last!.value - summary.first!.value).toFixed(6)));
      const peak = Math.max(...outcome.series[0].points.map((p) => p.ctr ?? -1));
      assert.equal(summary.peak?.value, peak);
    });

    await t.step("trend: weekly, and for one campaign through its granularity", async () => {
      const weekly = as(await run("weekly revenue trend for the last 4 weeks"), "trend");
      assert.match(weekly.requests[0], /group_by=week/);
      const campaign = as(await run("daily roas for cmp-42 last week"), "trend");
      assert.deepEqual(campaign.requests, [
        "/campaign/cmp-42/insights?from=2024-04-15&to=2024-04-21&granularity=day",
      ]);
      assert.equal(campaign.series[0].points.length, 7);
    });

    await t.step("trend of money across currencies: one series per currency", async () => {
      const outcome = as(await run("daily spend this month"), "trend");
      assert.deepEqual(outcome.requests, [
        "/insights?from=2024-04-01&to=2024-04-24&group_by=day",
        "/insights?from=2024-04-01&to=2024-04-24&group_by=day&source_currency=EUR",
        "/insights?from=2024-04-01&to=2024-04-24&group_by=day&source_currency=USD",
      ]);
      assert.deepEqual(outcome.summaries.map((s) => s.currency), ["EUR", "USD"]);
    });

    await t.step("compare across platforms", async () => {
      const outcome = as(
        await run("Compare ROAS between Google and Facebook this month"),
        "compare_platforms",
      );
      assert.deepEqual(outcome.requests, [
        "/insights?from=2024-04-01&to=2024-04-24&platform=google%2Cmeta&group_by=platform&order_by=roas&order=desc&limit=100",
      ]);
      assert.deepEqual(outcome.result.groups?.map((g) => g.platform).sort(), ["google", "meta"]);
    });

    await t.step("compare across periods: two calls and their difference", async () => {
      const outcome = as(
        await run("How is my spend this week compared to last week?"),
        "compare_periods",
      );
      assert.deepEqual(outcome.requests.sort(), [
        "/insights?from=2024-04-15&to=2024-04-21",
        "/insights?from=2024-04-22&to=2024-04-24",
      ]);
      const usd = outcome.changes.find((c) => c.currency === "USD")!;
      assert.equal(usd.change, Number((usd.current! - usd.previous!).toFixed(6)));
      assert.equal(
        usd.change_pct,
        Number(((usd.current! - usd.previous!) / usd.previous!).toFixed(6)),
      );
      const eur = outcome.changes.find((c) => c.currency === "EUR")!;
      assert.equal(eur.current, null, "no EUR spend this week");
    });

    await t.step("rank campaigns and platforms", async () => {
      const best = as(await run("Which campaign had the highest ROAS this month?"), "rank");
      assert.deepEqual(best.requests, [
        "/insights?from=2024-04-01&to=2024-04-24&group_by=campaign&order_by=roas&order=desc&limit=1",
      ]);
      const worst = as(await run("worst 5 campaigns by ROAS in the past 14 days"), "rank");
      assert.match(worst.requests[0], /order_by=roas&order=asc&limit=5/);
      const cheapest = as(await run("cheapest campaign by CPC on Google this month"), "rank");
      assert.match(
        cheapest.requests[0],
        /platform=google&group_by=campaign&order_by=cpc&order=asc&limit=1/,
      );
      const platforms = as(await run("Which platform had the best ROAS last month?"), "rank");
      assert.equal(platforms.group_by, "platform");
      assert.match(platforms.requests[0], /group_by=platform&order_by=roas&order=desc/);
    });

    await t.step("rank by money across currencies: ranked within each currency", async () => {
      const outcome = as(await run("top 3 campaigns by spend"), "rank");
      assert.deepEqual(outcome.requests, [
        "/insights?group_by=campaign&order_by=cost&order=desc&limit=3",
        "/insights?group_by=campaign&order_by=cost&order=desc&limit=3&source_currency=EUR",
        "/insights?group_by=campaign&order_by=cost&order=desc&limit=3&source_currency=USD",
      ]);
      for (const set of outcome.sets) {
        assert.ok(set.groups.every((group) => group.currency === set.currency));
      }
    });

    await t.step("list campaigns", async () => {
      const outcome = as(await run("List my LinkedIn campaigns"), "list_campaigns");
      assert.deepEqual(outcome.requests, ["/campaigns?platform=linkedin&sort=latest&limit=20"]);
      assert.deepEqual(outcome.campaigns.map((c) => c.campaign_id), ["li-1"]);
      const all = as(await run("which campaigns do I have"), "list_campaigns");
      assert.equal(all.campaigns.length, 5);
    });

    await t.step("unknown makes no call", async () => {
      const outcome = as(await run("What's the weather in Paris?"), "unknown");
      assert.deepEqual(outcome.requests, []);
    });

    await t.step("ambiguous and unknown names, missing ids", async () => {
      const ambiguous = as(await run("ctr for the spring promo campaign"), "ambiguous");
      assert.deepEqual(ambiguous.candidates.map((c) => c.campaign_id).sort(), ["m-1", "m-2"]);
      const none = as(await run("roas for the summer blowout campaign"), "not_found");
      assert.equal(none.ref, "name");
      const id = as(await run("cpa for cmp-999"), "not_found");
      assert.deepEqual([id.ref, id.said], ["id", "cmp-999"]);
      const latest = as(
        await run("ROAS for my latest LinkedIn campaign", KEY_B, "tenant-b"),
        "not_found",
      );
      assert.equal(latest.ref, "latest");
    });

    await t.step("a name that matches no campaign says so, never all campaigns", async () => {
      const none = as(await run("ROAS of the Zebra Secret Launch campaign"), "not_found");
      assert.deepEqual([none.ref, none.said], ["name", "zebra secret launch"]);
      assert.ok(
        none.requests.every((request) => !request.startsWith("/insights")),
        none.requests.join(", "),
      );
    });

    await t.step("an id with a dashed prefix is asked for whole", async () => {
      const outcome = as(await run("spend for campaign acme-cmp-1"), "not_found");
      assert.deepEqual([outcome.ref, outcome.said], ["id", "acme-cmp-1"]);
      assert.deepEqual(outcome.requests, ["/campaign/acme-cmp-1/insights"]);
    });

    await t.step("tenant B naming tenant A's campaign finds nothing", async () => {
      assert.equal(
        (await run("roas for the spring sale campaign", KEY_B, "tenant-b")).kind,
        "not_found",
      );
      assert.equal((await run("roas for cmp-42", KEY_B, "tenant-b")).kind, "not_found");
      const own = as(await run("roas for the winter deals campaign", KEY_B, "tenant-b"), "metric");
      assert.equal(own.subject.type === "campaign" && own.subject.campaign_id, "b-7");
    });

    await t.step("a time zone is passed to the API as tz", async () => {
      const outcome = await run("spend yesterday", KEY_A, "tenant-a", "Europe/Berlin");
      assert.deepEqual(outcome.requests, [
        "/insights?from=2024-04-23&to=2024-04-23&tz=Europe%2FBerlin",
      ]);
    });
  } finally {
    await dispose();
  }
});

Deno.test("executor: API failures become error outcomes, never exceptions", async () => {
  const failing = (error: AnalyticsError): AnalyticsClient => ({
    requests: ["/insights"],
    campaignInsights: () => Promise.reject(error),
    insights: () => Promise.reject(error),
    campaigns: () => Promise.reject(error),
    latestCampaign: () => Promise.reject(error),
    resolveCampaign: () => Promise.reject(error),
  });
  for (
    const error of [
      new AnalyticsError("unauthorized", "invalid token", 401),
      new AnalyticsError("unavailable", "could not reach the analytics API"),
      new AnalyticsError("timeout", "the analytics API did not answer in time"),
    ]
  ) {
    for (const prompt of ["spend this month", "roas for my latest campaign", "list my campaigns"]) {
      const outcome = await execute(parsePrompt(prompt, { now: NOW }), failing(error), {
        now: NOW,
      });
      const failed = as(outcome, "error");
      assert.deepEqual([failed.reason, failed.status, failed.message], [
        error.kind,
        error.status,
        error.message,
      ]);
    }
  }
});
