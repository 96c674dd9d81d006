/** The range planner: which table answers which part of a range, per query shape. */
import assert from "node:assert/strict";
import {
  bucketLabel,
  planBuckets,
  planRange,
  planZoneDays,
  type RangePart,
  runningTotals,
  zoneBuckets,
} from "../../lib/store/range_plan.ts";
import { startOfDayIn } from "../../lib/dates.ts";

const at = (iso: string) => new Date(iso);

/** Parts as "source from..to" lines (open bounds as "*"), sorted by start. */
function show(parts: readonly RangePart[]): string[] {
  const iso = (date?: Date) => date ? date.toISOString().replace(":00.000Z", "Z") : "*";
  return [...parts]
    .sort((a, b) => (a.from?.getTime() ?? -Infinity) - (b.from?.getTime() ?? -Infinity))
    .map((p) => `${p.source} ${iso(p.from)}..${iso(p.to)}${p.bucket ? ` @${p.bucket}` : ""}`);
}

/** The parts tile [from, to) exactly: no gap, no overlap. */
function assertTiles(parts: readonly RangePart[], from?: Date, to?: Date) {
  const sorted = [...parts].sort((a, b) =>
    (a.from?.getTime() ?? -Infinity) - (b.from?.getTime() ?? -Infinity)
  );
  assert.equal(sorted[0].from?.getTime(), from?.getTime());
  assert.equal(sorted.at(-1)!.to?.getTime(), to?.getTime());
  for (let i = 1; i < sorted.length; i++) {
    assert.equal(sorted[i].from?.getTime(), sorted[i - 1].to?.getTime());
  }
}

const campaign = { grain: "campaign" } as const;
const platform = { grain: "platform" } as const;

Deno.test("per campaign, whole months: the monthly rollup alone", () => {
  const parts = planRange(at("2025-01-01T00:00Z"), at("2025-04-01T00:00Z"), campaign);
  assert.deepEqual(show(parts), ["campaign_monthly 2025-01-01T00:00Z..2025-04-01T00:00Z"]);
});

Deno.test("per campaign, the last 30 days: days only (no whole month inside)", () => {
  const parts = planRange(at("2025-03-12T00:00Z"), at("2025-04-11T00:00Z"), campaign);
  assert.deepEqual(show(parts), ["campaign_daily 2025-03-12T00:00Z..2025-04-11T00:00Z"]);
});

Deno.test("per campaign, a quarter from mid-month: days, months, days", () => {
  const from = at("2025-02-15T00:00Z");
  const to = at("2025-05-16T00:00Z");
  const parts = planRange(from, to, campaign);
  assert.deepEqual(show(parts), [
    "campaign_daily 2025-02-15T00:00Z..2025-03-01T00:00Z",
    "campaign_monthly 2025-03-01T00:00Z..2025-05-01T00:00Z",
    "campaign_daily 2025-05-01T00:00Z..2025-05-16T00:00Z",
  ]);
  assertTiles(parts, from, to);
});

Deno.test("per campaign, 45 days in New York: whole UTC days inside, raw hours at the edges", () => {
  const from = startOfDayIn("2025-03-03", "America/New_York"); // 05:00Z (EST)
  const to = startOfDayIn("2025-04-17", "America/New_York"); // 04:00Z (EDT)
  const parts = planRange(from, to, campaign);
  assert.deepEqual(show(parts), [
    "raw 2025-03-03T05:00Z..2025-03-04T00:00Z",
    "campaign_daily 2025-03-04T00:00Z..2025-04-17T00:00Z",
    "raw 2025-04-17T00:00Z..2025-04-17T04:00Z",
  ]);
  assertTiles(parts, from, to);
});

Deno.test("per campaign, less than a day: raw rows", () => {
  const from = at("2025-03-03T05:00Z");
  const to = at("2025-03-04T04:00Z");
  assert.deepEqual(show(planRange(from, to, campaign)), [
    "raw 2025-03-03T05:00Z..2025-03-04T04:00Z",
  ]);
});

Deno.test("per campaign, open bounds: months, then days and hours up to the bound", () => {
  assert.deepEqual(show(planRange(undefined, undefined, campaign)), ["campaign_monthly *..*"]);
  const parts = planRange(undefined, at("2025-03-15T10:30Z"), campaign);
  assert.deepEqual(show(parts), [
    "campaign_monthly *..2025-03-01T00:00Z",
    "campaign_daily 2025-03-01T00:00Z..2025-03-15T00:00Z",
    "raw 2025-03-15T00:00Z..2025-03-15T10:30Z",
  ]);
  const since = planRange(at("2025-03-15T10:30Z"), undefined, campaign);
  assert.deepEqual(show(since), [
    "raw 2025-03-15T10:30Z..2025-03-16T00:00Z",
    "campaign_daily 2025-03-16T00:00Z..2025-04-01T00:00Z",
    "campaign_monthly 2025-04-01T00:00Z..*",
  ]);
});

Deno.test("per platform: whole hours from the hourly rollup, sub-hour edges raw", () => {
  const from = at("2025-03-03T05:30Z");
  const to = at("2025-04-17T04:00Z");
  const parts = planRange(from, to, platform);
  assert.deepEqual(show(parts), [
    "raw 2025-03-03T05:30Z..2025-03-03T06:00Z",
    "platform_hourly 2025-03-03T06:00Z..2025-04-17T04:00Z",
  ]);
  assertTiles(parts, from, to);
});

Deno.test("a campaign filter: whole months, the rest raw by primary key", () => {
  const shape = { grain: "campaign", campaignFilter: true } as const;
  const whole = planRange(at("2025-01-01T00:00Z"), at("2025-04-01T00:00Z"), shape);
  assert.deepEqual(show(whole), ["campaign_monthly 2025-01-01T00:00Z..2025-04-01T00:00Z"]);
  const ragged = planRange(at("2025-01-20T00:00Z"), at("2025-03-05T07:00Z"), shape);
  assert.deepEqual(show(ragged), [
    "raw 2025-01-20T00:00Z..2025-02-01T00:00Z",
    "campaign_monthly 2025-02-01T00:00Z..2025-03-01T00:00Z",
    "raw 2025-03-01T00:00Z..2025-03-05T07:00Z",
  ]);
});

Deno.test("bucket labels and zone buckets (weeks start on Monday)", () => {
  assert.equal(bucketLabel("2025-03-05", "week"), "2025-03-03");
  assert.equal(bucketLabel("2025-03-09", "week"), "2025-03-03");
  assert.equal(bucketLabel("2025-03-10", "week"), "2025-03-10");
  assert.equal(bucketLabel("2025-03-31", "month"), "2025-03-01");
  const from = startOfDayIn("2025-01-20", "Asia/Kolkata");
  const to = startOfDayIn("2025-03-04", "Asia/Kolkata");
  const months = zoneBuckets(from, to, "month", "Asia/Kolkata");
  assert.deepEqual(months.map((b) => b.label), ["2025-01-01", "2025-02-01", "2025-03-01"]);
  assert.equal(months[0].from.toISOString(), "2025-01-19T18:30:00.000Z");
  assert.equal(months[1].from.toISOString(), "2025-01-31T18:30:00.000Z");
  assert.equal(months[2].to.toISOString(), "2025-03-03T18:30:00.000Z");
});

Deno.test("series in a half-hour zone: daily rows only inside a bucket, labelled with it", () => {
  const zone = "Asia/Kolkata";
  const from = startOfDayIn("2025-02-01", zone);
  const to = startOfDayIn("2025-02-11", zone);
  const weeks = planBuckets(zoneBuckets(from, to, "week", zone), campaign);
  assert.deepEqual(show(weeks), [
    "raw 2025-01-31T18:30Z..2025-02-01T00:00Z",
    "campaign_daily 2025-02-01T00:00Z..2025-02-02T00:00Z @2025-01-27",
    "raw 2025-02-02T00:00Z..2025-02-03T00:00Z",
    "campaign_daily 2025-02-03T00:00Z..2025-02-09T00:00Z @2025-02-03",
    "raw 2025-02-09T00:00Z..2025-02-10T18:30Z",
  ]);
  assertTiles(weeks, from, to);
  // Days of a half-hour zone never hold a whole UTC day: all raw, merged into one part.
  const days = planBuckets(zoneBuckets(from, to, "day", zone), campaign);
  assert.deepEqual(show(days), ["raw 2025-01-31T18:30Z..2025-02-10T18:30Z"]);
});

Deno.test("days of the UTC zone: daily rows carry their own day and merge", () => {
  const from = at("2025-02-01T06:00Z");
  const to = at("2025-02-11T00:00Z");
  const parts = planBuckets(zoneBuckets(from, to, "day", "UTC"), campaign);
  assert.deepEqual(show(parts), [
    "raw 2025-02-01T06:00Z..2025-02-02T00:00Z",
    "campaign_daily 2025-02-02T00:00Z..2025-02-11T00:00Z",
  ]);
});

Deno.test("converted reads: other currencies per day of the zone, looked up per series", () => {
  const lookups = (parts: readonly RangePart[]) =>
    parts.map((p) =>
      `${p.source}${p.seriesLookup ? " per series" : ""}${p.day ? ` ${p.day}` : ""}`
    );
  // A UTC month: its days are UTC days, one range of the daily rollup.
  const month = planZoneDays(at("2025-03-01T00:00Z"), at("2025-04-01T00:00Z"), "UTC");
  assert.deepEqual(show(month), ["campaign_daily 2025-03-01T00:00Z..2025-04-01T00:00Z"]);
  assert.deepEqual(lookups(month), ["campaign_daily per series"]);
  // New York days straddle UTC days: raw rows, merged into one part, per series.
  const zone = "America/New_York";
  const from = startOfDayIn("2025-03-05", zone);
  const to = startOfDayIn("2025-03-20", zone);
  const ny = planZoneDays(from, to, zone);
  assertTiles(ny, from, to);
  assert.deepEqual(lookups(ny), ["raw per series"]);
  // A few hours inside one UTC day keep the edge lookup by the daily rollup's series.
  const hours = planZoneDays(at("2025-03-05T01:00Z"), at("2025-03-05T03:00Z"), "UTC");
  assert.deepEqual(lookups(hours), ["raw 2025-03-05"]);
  // A campaign filter reads raw rows by primary key; an open bound, every month's series.
  assert.deepEqual(lookups(planZoneDays(from, to, zone, { campaignFilter: true })), ["raw"]);
  assert.deepEqual(lookups(planZoneDays(undefined, to, zone)), ["raw per series"]);
});

/** Running-total parts as "±day" (campaign_mtd) or the plain line of any other part. */
function showTotals(parts: readonly RangePart[]): string[] {
  return parts.map((p) =>
    p.source === "campaign_mtd" ? `${p.sign === -1 ? "-" : "+"}${p.day}` : show([p])[0]
  );
}

const totalsOf = (from: string, to: string) =>
  showTotals(runningTotals(planRange(at(from), at(to), campaign)));

Deno.test("running totals: days inside one month are the total at the end minus the day before", () => {
  assert.deepEqual(totalsOf("2025-03-12T00:00Z", "2025-03-20T00:00Z"), [
    "+2025-03-19",
    "-2025-03-11",
  ]);
});

Deno.test("running totals: from the 1st, nothing is subtracted", () => {
  assert.deepEqual(totalsOf("2025-03-01T00:00Z", "2025-03-08T00:00Z"), ["+2025-03-07"]);
});

Deno.test("running totals: the last 30 days across a month end, split at the month", () => {
  // March 12..31 is the month minus its first 11 days; April 1..10 a total from the 1st.
  assert.deepEqual(totalsOf("2025-03-12T00:00Z", "2025-04-11T00:00Z"), [
    "campaign_monthly 2025-03-01T00:00Z..2025-04-01T00:00Z",
    "-2025-03-11",
    "+2025-04-10",
  ]);
});

Deno.test("running totals: whole months stay monthly, the days around them differences", () => {
  assert.deepEqual(totalsOf("2025-02-15T00:00Z", "2025-05-16T00:00Z"), [
    "campaign_monthly 2025-03-01T00:00Z..2025-05-01T00:00Z",
    "campaign_monthly 2025-02-01T00:00Z..2025-03-01T00:00Z",
    "-2025-02-14",
    "+2025-05-15",
  ]);
});

Deno.test("running totals: raw edges, hours and bucketed days are kept as they are", () => {
  const from = startOfDayIn("2025-06-19", "America/New_York");
  const to = startOfDayIn("2025-08-03", "America/New_York");
  const parts = planRange(from, to, campaign);
  const converted = runningTotals(parts);
  assert.deepEqual(
    converted.filter((p) => p.source === "raw"),
    parts.filter((p) => p.source === "raw"),
  );
  assert.ok(converted.every((p) => p.source !== "campaign_daily"));
  const buckets = planBuckets(
    zoneBuckets(at("2025-03-03T00:00Z"), at("2025-03-17T00:00Z"), "week", "UTC"),
    campaign,
  );
  assert.deepEqual(runningTotals(buckets), buckets);
});
