/**
 * Rollups and raw rows give the same answer for every range: random data (hourly and
 * sub-hour rows, daily rows, restatements), random ranges (whole months, days, hours,
 * minutes, midnights of several zones, open bounds) and zones, seeded so a failure
 * replays. Every answer of the store (which reads the planner's rollup parts) is
 * compared with the same question asked of campaign_metrics alone, on every engine.
 */
import assert from "node:assert/strict";
import { ENGINES, type TestDatabase } from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import type { MetricRowInput } from "../../lib/schema.ts";
import { mulberry32 } from "../../lib/random.ts";
import { normalizeDecimal } from "../../lib/decimal.ts";
import { startOfDayIn } from "../../lib/dates.ts";
import type { SqlDriver } from "../../lib/store/driver.ts";
import { assertRunningTotalsMatchRaw } from "../support/running_totals.ts";

const SEED = Number(Deno.env.get("PROPERTY_SEED") ?? 20251202);
const TENANT = "prop";
const START = Date.parse("2024-12-20T00:00:00Z");
const SPAN_DAYS = 110;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu"];
const PLATFORMS = ["google", "meta"] as const;

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)];
const int = (random: Random, low: number, high: number) =>
  low + Math.floor(random() * (high - low + 1));
const money = (random: Random) => (int(random, 0, 50_000) / 100).toFixed(2);

function makeRows(random: Random): MetricRowInput[] {
  const rows: MetricRowInput[] = [];
  for (let c = 1; c <= 6; c++) {
    const platform = PLATFORMS[c % 2];
    const currency = c === 5 ? "EUR" : "USD";
    const hourly = c % 3 !== 0; // the others: one row per day, as connectors send
    for (let n = int(random, 60, 160); n > 0; n--) {
      const day = int(random, 0, SPAN_DAYS - 1);
      const offset = hourly
        ? int(random, 0, 23) * HOUR_MS + (random() < 0.2 ? int(random, 1, 59) * 60_000 : 0)
        : 0;
      rows.push({
        tenant_id: TENANT,
        platform,
        account_id: `acct-${c % 2}`,
        campaign_id: `cmp-${c}`,
        ts: new Date(START + day * DAY_MS + offset).toISOString(),
        impressions: int(random, 1, 5000),
        clicks: int(random, 0, 200),
        conversions: (int(random, 0, 300) / 10).toFixed(1),
        cost: money(random),
        revenue: money(random),
        currency,
        source: "property",
      });
    }
  }
  return rows;
}

/** A random bound: aligned to a month, a day, an hour, a minute, or a zone's midnight. */
function bound(random: Random): Date {
  const day = int(random, 0, SPAN_DAYS);
  const base = START + day * DAY_MS;
  switch (int(random, 0, 4)) {
    case 0: {
      const d = new Date(base);
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    }
    case 1:
      return new Date(base);
    case 2:
      return new Date(base + int(random, 0, 23) * HOUR_MS);
    case 3:
      return new Date(base + int(random, 0, 24 * 60 - 1) * 60_000);
    default:
      return startOfDayIn(new Date(base).toISOString().slice(0, 10), pick(random, ZONES));
  }
}

function range(random: Random): { from?: Date; to?: Date } {
  let [a, b] = [bound(random), bound(random)];
  if (a.getTime() > b.getTime()) [a, b] = [b, a];
  const open = random();
  if (open < 0.08) return {};
  if (open < 0.16) return { to: b };
  if (open < 0.24) return { from: a };
  return { from: a, to: b };
}

const SUMS = `sum(impressions)::text AS impressions, sum(clicks)::text AS clicks,
  sum(conversions)::text AS conversions, sum(cost)::text AS cost, sum(revenue)::text AS revenue`;

/** The question asked of the raw rows alone. */
async function rawRows(
  driver: SqlDriver,
  keys: string,
  where: { from?: Date; to?: Date; platforms?: string[]; campaignIds?: string[] },
): Promise<Record<string, string>[]> {
  const params: unknown[] = [TENANT];
  const filters = ["tenant_id = $1"];
  if (where.from) filters.push(`ts >= $${params.push(where.from.toISOString())}::timestamptz`);
  if (where.to) filters.push(`ts < $${params.push(where.to.toISOString())}::timestamptz`);
  if (where.platforms?.length) filters.push(`platform = ANY($${params.push(where.platforms)})`);
  if (where.campaignIds?.length) {
    filters.push(`campaign_id = ANY($${params.push(where.campaignIds)})`);
  }
  // Expressions name themselves ("... AS bucket"): the outer query groups by the names.
  const groups = keys.split(/,(?![^(]*\))/).map((key) => key.trim().split(/\s+AS\s+/).at(-1))
    .join(", ");
  return await driver.query<Record<string, string>>(
    `SELECT ${groups}, ${SUMS} FROM (SELECT ${keys}, impressions, clicks, conversions, cost,
       revenue FROM campaign_metrics WHERE ${filters.join(" AND ")}) rows
     GROUP BY ${groups}`,
    params as string[],
  );
}

/**
 * Rows as sorted "key|sums" lines, decimals normalized (10.10 = 10.1). Groups whose sums
 * are all zero are left out: a rollup keeps, at zero, the row of a key whose rows moved
 * to another currency, where the raw rows have no group at all.
 */
function lines(rows: readonly Record<string, unknown>[], keys: readonly string[]): string[] {
  const measures = ["impressions", "clicks", "conversions", "cost", "revenue"];
  return rows.map((row) => [
    ...keys.map((key) => String(row[key] ?? "").trim()),
    ...measures.map((m) => normalizeDecimal(String(row[m]))),
  ]).filter((values) => values.slice(-5).some((value) => value !== "0"))
    .map((values) => values.join("|")).sort();
}

async function checkRange(
  db: TestDatabase,
  store: SqlMetricsStore,
  fx: SqlFxStore,
  random: Random,
  label: string,
) {
  const { from, to } = range(random);
  const zone = pick(random, ZONES);
  const platforms = random() < 0.3 ? [pick(random, PLATFORMS)] : [];
  const campaignIds = random() < 0.2
    ? [`cmp-${int(random, 1, 6)}`, `cmp-${int(random, 1, 6)}`]
    : [];
  const where = { tenantId: TENANT, from, to, platforms, campaignIds };
  const context = `${label}: ${from?.toISOString() ?? "*"}..${to?.toISOString() ?? "*"} ${zone} ${
    platforms.join(",")
  } ${campaignIds.join(",")}`;

  const totals = await store.totals(where);
  assert.deepEqual(
    lines(totals.by_platform, ["platform", "currency"]),
    lines(await rawRows(db.driver, "platform, currency", where), ["platform", "currency"]),
    `totals by platform, ${context}`,
  );
  assert.deepEqual(
    lines(totals.totals, ["currency"]),
    lines(await rawRows(db.driver, "currency", where), ["currency"]),
    `totals, ${context}`,
  );

  const keys = ["platform", "campaign_id", "currency"];
  const ranked = await store.rank(where, {
    groupBy: "campaign",
    metric: "roas",
    order: "desc",
    limit: 100,
  });
  assert.deepEqual(
    lines(ranked, keys),
    lines(await rawRows(db.driver, keys.join(", "), where), keys),
    `rank by campaign, ${context}`,
  );
  const top = await store.rank(where, {
    groupBy: "campaign",
    metric: "roas",
    order: "desc",
    limit: 3,
  });
  assert.deepEqual(top, ranked.slice(0, 3), `top 3 = the first 3 of all, ${context}`);

  // Lowest spend first: campaigns without data in the range (zero differences of running
  // totals) must not take the first places.
  const cheapest = await store.rank(where, {
    groupBy: "campaign",
    metric: "cost",
    order: "asc",
    limit: 3,
  });
  const raw = await rawRows(db.driver, keys.join(", "), where);
  const expected = raw
    .filter((row) => lines([row], keys).length > 0)
    .sort((a, b) =>
      Number(a.cost) - Number(b.cost) || a.platform.localeCompare(b.platform) ||
      a.campaign_id.localeCompare(b.campaign_id) || a.currency.localeCompare(b.currency)
    ).slice(0, 3);
  assert.deepEqual(
    cheapest.map((row) => `${row.platform}/${row.campaign_id}/${row.currency}`),
    expected.map((row) => `${row.platform}/${row.campaign_id}/${row.currency}`),
    `cheapest 3 campaigns, ${context}`,
  );

  const byPlatform = await store.rank(where, {
    groupBy: "platform",
    metric: "cpc",
    order: "asc",
    limit: 10,
  });
  assert.deepEqual(
    lines(byPlatform, ["platform", "currency"]),
    lines(await rawRows(db.driver, "platform, currency", where), ["platform", "currency"]),
    `rank by platform, ${context}`,
  );

  if (from && to) {
    const granularity = pick(random, ["day", "week", "month"] as const);
    const series = await store.series(where, granularity, zone);
    const bucket = `to_char(date_trunc('${granularity}', ts AT TIME ZONE '${zone}'), 'YYYY-MM-DD')`;
    assert.deepEqual(
      lines(series, ["bucket", "currency"]),
      lines(await rawRows(db.driver, `${bucket} AS bucket, currency`, where), [
        "bucket",
        "currency",
      ]),
      `series by ${granularity}, ${context}`,
    );

    // Converted reads: per (campaign, currency, day of the zone) for other currencies.
    const days = await fx.campaignDays(where, zone, "USD");
    const day = `CASE WHEN currency = 'USD' THEN NULL
      ELSE to_char(ts AT TIME ZONE '${zone}', 'YYYY-MM-DD') END AS day`;
    assert.deepEqual(
      lines(days, ["platform", "campaign_id", "currency", "day"]),
      lines(
        await rawRows(db.driver, `platform, campaign_id, currency, ${day}`, where),
        ["platform", "campaign_id", "currency", "day"],
      ),
      `campaign days, ${context}`,
    );
  }
}

for (const engine of ENGINES) {
  Deno.test({
    name: `rollups answer every range as the raw rows do, on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      const random = mulberry32(SEED);
      try {
        const rows = makeRows(random);
        const now = new Date(START + 2 * SPAN_DAYS * DAY_MS);
        // In three batches of random days: a later batch writes days before, between
        // and after the ones already stored (running totals are kept per month).
        const batches: MetricRowInput[][] = [[], [], []];
        for (const row of rows) batches[int(random, 0, 2)].push(row);
        for (const batch of batches) await store.upsert(batch, { now });
        // Restatements (new values for existing rows, some moved to another currency)
        // and a replayed batch: deltas.
        const restated = rows.filter(() => random() < 0.15).map((row) => ({
          ...row,
          impressions: int(random, 1, 5000),
          cost: money(random),
          revenue: money(random),
          currency: random() < 0.1 ? "GBP" : row.currency,
        }));
        await store.upsert(restated, { now });
        await store.upsert(restated.slice(0, 20), { now });
        await assertRunningTotalsMatchRaw(db.driver, `seed ${SEED}`);
        for (let i = 0; i < 80; i++) await checkRange(db, store, fx, random, `seed ${SEED} #${i}`);
      } finally {
        await db.dispose();
      }
    },
  });
}
