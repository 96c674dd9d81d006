/**
 * The month-to-date running totals (sql/009) checked against the raw rows: every row of
 * `campaign_mtd` is the sum of its campaign's raw rows from the 1st of its month to the
 * end of its day; each campaign-month has one row per day from `first_day` to `last_day`
 * of its monthly row and none outside; and that span holds every day with data.
 */
import assert from "node:assert/strict";
import type { SqlDriver } from "../../lib/store/driver.ts";
import { normalizeDecimal } from "../../lib/decimal.ts";
import { MEASURES } from "../../lib/schema.ts";
import { splitStatements } from "../../lib/store/migrate.ts";
import { MIGRATIONS } from "../../sql/migrations.ts";

/** Runs migration 009 (running totals) as `migrate` would, without recording it. */
export async function runMigration009(driver: SqlDriver): Promise<void> {
  const sql = MIGRATIONS.find((migration) => migration.version === 9)!.sql;
  await driver.transaction(async (tx) => {
    for (const statement of splitStatements(sql)) await tx.query(statement);
  });
}

const SERIES = ["tenant_id", "platform", "campaign_id", "currency"];
const sameSeries = (a: string, b: string) =>
  SERIES.map((c) => `${a}.${c} = ${b}.${c}`).join(" AND ");

export async function assertRunningTotalsMatchRaw(
  driver: SqlDriver,
  context: string,
): Promise<void> {
  const values = await driver.query<Record<string, string>>(
    `SELECT t.day::text AS day, t.platform, t.campaign_id, t.currency,
            ${MEASURES.map((m) => `t.${m}::text AS ${m}, coalesce(r.${m}, 0)::text AS raw_${m}`)}
     FROM campaign_mtd t
     LEFT JOIN LATERAL (
       SELECT ${MEASURES.map((m) => `sum(${m}) AS ${m}`).join(", ")} FROM campaign_metrics m
       WHERE ${sameSeries("m", "t")}
         AND m.ts >= date_trunc('month', t.day::timestamp) AT TIME ZONE 'UTC'
         AND m.ts < (t.day + 1)::timestamp AT TIME ZONE 'UTC'
     ) r ON true`,
  );
  for (const row of values) {
    for (const m of MEASURES) {
      assert.equal(
        normalizeDecimal(row[m]),
        normalizeDecimal(row[`raw_${m}`]),
        `${context}: running ${m} of ${row.platform}/${row.campaign_id} ${row.currency} at ${row.day}`,
      );
    }
  }
  const spans = await driver.query<Record<string, string | number | boolean>>(
    `SELECT o.month::text AS month, o.platform, o.campaign_id, o.currency,
            o.first_day::text AS first_day, o.last_day::text AS last_day,
            (SELECT count(*) FROM campaign_mtd t WHERE ${sameSeries("t", "o")}
               AND t.day >= o.month AND t.day < o.month + interval '1 month')::int AS rows,
            (SELECT count(*) FROM campaign_mtd t WHERE ${sameSeries("t", "o")}
               AND t.day BETWEEN o.first_day AND o.last_day)::int AS inside,
            (SELECT bool_and((m.ts AT TIME ZONE 'UTC')::date BETWEEN o.first_day AND o.last_day)
             FROM campaign_metrics m WHERE ${sameSeries("m", "o")}
               AND m.ts >= o.month::timestamp AT TIME ZONE 'UTC'
               AND m.ts < (o.month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
               AND (${MEASURES.map((m) => `m.${m} <> 0`).join(" OR ")})) AS covers
     FROM campaign_monthly o`,
  );
  for (const span of spans) {
    const label = `${context}: ${span.platform}/${span.campaign_id} ${span.currency} ${span.month}`;
    if (span.last_day === null) {
      assert.equal(span.rows, 0, `${label}: no running totals without a span`);
      continue;
    }
    const days = (Date.parse(String(span.last_day)) - Date.parse(String(span.first_day))) /
        86_400_000 + 1;
    assert.equal(span.rows, days, `${label}: one row per day of the span, none outside`);
    assert.equal(span.inside, days, `${label}: the rows are the span's days`);
    assert.notEqual(span.covers, false, `${label}: the span holds every day with data`);
  }
}
