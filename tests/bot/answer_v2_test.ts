/**
 * Version 2 of the answers: definitions read no data, the currency asked for reaches the
 * read routes (and a conversion is said), and every answer links to the dashboard.
 */
import assert from "node:assert/strict";
import { answerPrompt } from "../../lib/bot/answer.ts";
import type { AnalyticsClient, FxNote, InsightsParams } from "../../lib/bot/client.ts";
import { definitionsOf, describeDefinition } from "../../lib/bot/definitions.ts";
import { execute } from "../../lib/bot/execute.ts";
import type { Outcome } from "../../lib/bot/outcome.ts";
import { parsePrompt } from "../../lib/bot/parse/parse.ts";
import { viewUrl } from "../../lib/bot/view_url.ts";
import { KPI_DEFINITIONS } from "../../lib/kpi.ts";
import { NOW } from "./fixtures.ts";
import { promptExtension } from "../../handlers/prompt.ts";
import { fxRatesHttp } from "../../handlers/fx_rates.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { auth, KEY_A, metricRow, testApp } from "../support/test_app.ts";

/** A client that must not be called. */
const untouchable: AnalyticsClient = new Proxy({ requests: [] } as unknown as AnalyticsClient, {
  get(target, property) {
    if (property === "requests" || property === "conversions" || property === "then") {
      return Reflect.get(target, property);
    }
    throw new Error(`the analytics client was called: ${String(property)}`);
  },
});

Deno.test("explain: answered from the KPI module's facts, no data read", async () => {
  const answer = await answerPrompt("what is ROAS?", { client: untouchable, now: NOW });
  assert.equal(answer.query.intent, "explain");
  assert.equal(answer.data.kind, "explain");
  assert.deepEqual(answer.data.requests, []);
  assert.match(answer.reply, /revenue ÷ spend/);
  assert.match(answer.reply, /no spend/);
  assert.match(answer.reply, /Higher is better/);
  assert.equal(answer.view_url, null);
  const cpm = await answerPrompt("what does cpm mean", { client: untouchable, now: NOW });
  assert.match(cpm.reply, /spend ÷ impressions × 1,000/);
  assert.match(cpm.reply, /Lower is better/);
});

Deno.test("definitions follow KPI_DEFINITIONS: formula, null when, direction", () => {
  for (const definition of definitionsOf(["ctr", "roas", "cpa", "cpc", "cpm", "cvr"])) {
    const kpi = KPI_DEFINITIONS[definition.measure as keyof typeof KPI_DEFINITIONS];
    assert.equal(definition.ratio?.numerator, kpi.numerator);
    assert.equal(definition.ratio?.denominator, kpi.denominator);
    assert.equal(definition.nullWhenZero, kpi.denominator);
    assert.ok(describeDefinition(definition).toLowerCase().includes(kpi.name), kpi.name);
  }
  const spend = definitionsOf(["spend"])[0];
  assert.equal(spend.ratio, null);
  assert.equal(spend.higherIsBetter, false);
  assert.equal(definitionsOf(["conversions"])[0].higherIsBetter, true);
});

/** A client answering every read with empty totals, recording its parameters. */
function recordingClient(fx?: FxNote) {
  const seen: InsightsParams[] = [];
  const totals = {
    impressions: 1000,
    clicks: 50,
    conversions: 5,
    cost: 100,
    revenue: 400,
    ctr: 0.05,
    roas: 4,
    cpa: 20,
    cpc: 2,
    cpm: 100,
    cvr: 0.1,
  };
  const client = {
    requests: [] as string[],
    conversions: fx ? [fx] : [],
    insights(params: InsightsParams = {}) {
      seen.push(params);
      return Promise.resolve({
        from: params.from ?? null,
        to: params.to ?? null,
        currency: params.currency ?? "USD",
        totals,
        ...(fx ? { fx } : {}),
      });
    },
  } as unknown as AnalyticsClient;
  return { client, seen };
}

Deno.test("currency: passed to the read routes as currency=XXX; a conversion is said", async () => {
  const plain = recordingClient();
  await execute(parsePrompt("spend last month in euros", { now: NOW }), plain.client, { now: NOW });
  assert.equal(plain.seen[0].currency, "EUR");

  const converted = recordingClient({ to: "EUR", rates: "daily" });
  const answer = await answerPrompt("spend last month in euros", {
    client: converted.client,
    now: NOW,
  });
  assert.deepEqual(answer.data.fx, { to: "EUR", rates: "daily" });
  assert.match(answer.reply, /converted to EUR at daily rates/);

  const none = recordingClient();
  const stored = await answerPrompt("spend last month", { client: none.client, now: NOW });
  assert.equal(none.seen[0].currency, undefined);
  assert.doesNotMatch(stored.reply, /converted/);
});

Deno.test("view_url: the dashboard selection of the same numbers", async () => {
  const { client } = recordingClient();
  const answer = await answerPrompt("roas on google and meta last week in gbp", {
    client,
    now: NOW,
  });
  assert.equal(
    answer.view_url,
    "/#/overview?preset=custom&from=2024-04-15&to=2024-04-21&currency=GBP",
  );
  const compare = parsePrompt("spend this month vs last month", { now: NOW });
  const outcome = {
    kind: "compare_periods",
    subject: { type: "all", platforms: [] },
    period: { from: "2024-04-01", to: "2024-04-24", basis: "asked" },
    previous_period: { from: "2024-03-01", to: "2024-03-31", basis: "asked" },
    metrics: ["spend"],
    requests: [],
  } as unknown as Outcome;
  assert.equal(
    viewUrl(compare, outcome),
    "/#/overview?preset=custom&from=2024-04-01&to=2024-04-24",
  );
  assert.equal(viewUrl(parsePrompt("hi", { now: NOW }), { kind: "unknown", requests: [] }), null);
  const campaign = {
    kind: "metric",
    subject: { type: "campaign", via: "id", campaign_id: "cmp-42", platforms: ["google"] },
    period: { from: "2024-03-03", to: "2024-04-23", basis: "lifetime" },
    requests: [],
  } as unknown as Outcome;
  assert.equal(
    viewUrl(parsePrompt("roas for cmp-42 on google", { now: NOW }), campaign, { timeZone: "UTC" }),
    "/#/campaign/cmp-42?preset=custom&from=2024-03-03&to=2024-04-23&platform=google&tz=UTC",
  );
});

Deno.test({
  name: "POST /prompt 'in USD' on a deployment with rates: converted, and the reply says so",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await pgliteDatabase();
    const fx = new SqlFxStore(db.driver);
    const { app, store, dispose } = await testApp({
      db,
      overrides: { fx },
      extensions: [promptExtension(), fxRatesHttp({ fx, invalidate: () => Promise.resolve() })],
    });
    const post = async (path: string, body: unknown) => {
      const response = await app.request(path, {
        method: "POST",
        headers: { ...auth(KEY_A), "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    try {
      await store.upsert([
        metricRow({ platform: "meta", currency: "EUR", ts: "2024-04-05T10:00:00Z", cost: "10.00" }),
      ]);
      const rates = await post("/fx-rates", [
        { date: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0850" },
      ]);
      assert.equal(rates.status, 200);
      const { status, body } = await post("/prompt", {
        prompt: "spend on meta on april 5 2024 in usd",
      });
      assert.equal(status, 200);
      assert.equal(body.query.currency, "USD");
      assert.match(body.data.requests[0], /currency=USD/);
      assert.equal(body.data.fx.currency, "USD");
      assert.match(body.reply, /\$10\.85/);
      assert.match(body.reply, /converted to USD at daily rates/);
      assert.match(body.view_url, /currency=USD/);
    } finally {
      await dispose();
    }
  },
});
