/** Deterministic daily rows shared by the benchmarks that need a small, known data set. */
import type { MetricRowInput } from "../lib/schema.ts";

const PLATFORMS = ["google", "meta", "linkedin", "tiktok"] as const;
const DAY_MS = 86_400_000;

/** One USD row per campaign and UTC day from `start` (ms since the epoch), `days` days long. */
export function dailyBenchRows(
  options: { tenant: string; campaigns: number; days: number; start: number },
): MetricRowInput[] {
  const { tenant, campaigns, days, start } = options;
  const rows: MetricRowInput[] = [];
  for (let campaign = 1; campaign <= campaigns; campaign++) {
    for (let day = 0; day < days; day++) {
      rows.push({
        tenant_id: tenant,
        platform: PLATFORMS[campaign % 4],
        account_id: "bench-account",
        campaign_id: `cmp-${campaign}`,
        campaign_name: `Bench campaign ${campaign}`,
        ts: new Date(start + day * DAY_MS).toISOString(),
        impressions: 1000 + ((campaign * 31 + day * 7) % 500),
        clicks: 20 + ((campaign + day) % 30),
        conversions: String((campaign + day) % 5),
        cost: `${10 + (day % 17)}.${String(campaign % 100).padStart(2, "0")}`,
        revenue: `${30 + (day % 23)}.50`,
        currency: "USD",
        source: "bench",
      });
    }
  }
  return rows;
}
