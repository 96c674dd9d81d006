/**
 * Seeded data for the bot's answering tests: tenant A has campaigns on four platforms in
 * two currencies, tenant B has one campaign of its own. "Now" is the evaluation files'
 * Wednesday, 2024-04-24T10:00:00Z.
 */
import { metricRow, type TestApp, testApp } from "../support/test_app.ts";
import { campaignMetadata } from "../../ingest/fake.ts";
import { createFakeCatalog } from "../../ingest/fake_catalog.ts";
import { fakeRows } from "../../ingest/fake_rows.ts";
import type { MetricRowInput } from "../../lib/schema.ts";

export const NOW = new Date("2024-04-24T10:00:00Z");

function day(date: string): string {
  return `${date}T00:00:00Z`;
}

/** Rows with distinct, realistic numbers (so a wrong number cannot hide behind a twin). */
export function seedRows(): MetricRowInput[] {
  const rows: MetricRowInput[] = [];
  // Google, USD: "Spring Sale" (cmp-42) from 3 Mar, daily in the week of 15 Apr.
  const google = (date: string, i: number) =>
    metricRow({
      ts: day(date),
      impressions: 1000 + 37 * i,
      clicks: 40 + 3 * i,
      conversions: String(4 + (i % 3)),
      cost: (21.5 + 1.25 * i).toFixed(2),
      revenue: (80 + 7.3 * i).toFixed(2),
    });
  ["2024-03-03", "2024-04-05", "2024-04-06"].forEach((date, i) => rows.push(google(date, i)));
  for (let d = 15; d <= 23; d++) rows.push(google(`2024-04-${d}`, d));
  // Meta, EUR: two "Spring Promo" campaigns that a short name cannot tell apart.
  const meta = (campaign_id: string, name: string, date: string, i: number) =>
    metricRow({
      platform: "meta",
      account_id: "act_1",
      campaign_id,
      campaign_name: name,
      currency: "EUR",
      ts: day(date),
      impressions: 3000 + 101 * i,
      clicks: 33 + i,
      conversions: String(2 + (i % 2)),
      cost: (30.4 + 2.1 * i).toFixed(2),
      revenue: (95.2 + 4.4 * i).toFixed(2),
    });
  ["2024-04-10", "2024-04-16", "2024-04-18"].forEach((date, i) =>
    rows.push(meta("m-1", "Spring Promo 2024 – Retargeting", date, i))
  );
  ["2024-04-11", "2024-04-17"].forEach((date, i) =>
    rows.push(meta("m-2", "Spring Promo 2024 – Prospecting", date, i + 5))
  );
  // TikTok, USD, the newest campaign.
  rows.push(metricRow({
    platform: "tiktok",
    account_id: "tt_1",
    campaign_id: "t-1",
    campaign_name: "Black Friday Blitz",
    ts: day("2024-04-20"),
    impressions: 8800,
    clicks: 61,
    conversions: "3",
    cost: "17.35",
    revenue: "29.99",
  }));
  // LinkedIn, USD, only in February (so "this quarter on LinkedIn" has no data).
  rows.push(metricRow({
    platform: "linkedin",
    account_id: "li_1",
    campaign_id: "li-1",
    campaign_name: "Brand Awareness Q1",
    ts: day("2024-02-10"),
    impressions: 2500,
    clicks: 19,
    conversions: "1",
    cost: "140.00",
    revenue: "0.00",
  }));
  // Tenant B: its own campaign only.
  rows.push(metricRow({
    tenant_id: "tenant-b",
    campaign_id: "b-7",
    campaign_name: "Winter Deals",
    ts: day("2024-04-12"),
    impressions: 640,
    clicks: 12,
    conversions: "1",
    cost: "9.90",
    revenue: "31.00",
  }));
  return rows;
}

export async function seededApp(
  options: Parameters<typeof testApp>[0] = {},
): Promise<TestApp> {
  const test = await testApp(options);
  const result = await test.store.upsert(seedRows());
  if (result.rejected.length) throw new Error(`seed rejected: ${JSON.stringify(result.rejected)}`);
  return test;
}

/** Tenant A's rows replaced by a few days of the fake advertiser (many campaigns, 3 currencies). */
export async function fakeApp(tenantId = "tenant-a"): Promise<TestApp> {
  const test = await testApp();
  const catalog = createFakeCatalog({ seed: 7, campaigns: 16, tenantId, now: NOW });
  const rows = fakeRows(catalog, { from: new Date("2024-04-19T00:00:00Z"), to: NOW, now: NOW });
  const result = await test.store.upsert(rows.map((row) => ({ ...row, source: "fake" })));
  if (result.rejected.length) throw new Error(`fake rows rejected: ${result.rejected.length}`);
  await test.store.upsertCampaigns(campaignMetadata(catalog));
  return test;
}
