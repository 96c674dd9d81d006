/**
 * Converted sums computed in SQL (ConvertedQueries.totals / series): each (currency,
 * day) term amount × factor is truncated at 10^-FACTOR_DIGITS and the sum is bounded;
 * the bound must give exactly the text the exact rational sum gives, or nothing (then
 * the per-day path answers). Checked in JavaScript against exact rationals, and end to
 * end on every engine with rates whose truncated terms add up to a round amount (the
 * bound cannot decide it: the answer must still be exact).
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import {
  addRational,
  BoundedSum,
  FACTOR_DIGITS,
  type Rational,
  rationalToText,
} from "../../lib/fx/convert.ts";
import { ConvertedQueries } from "../../lib/fx/queries.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { mulberry32 } from "../../lib/random.ts";
import { metricRow } from "../support/test_app.ts";

/** What SQL's div does: the quotient truncated toward zero, and whether it was exact. */
function truncatedTerm(amount: Rational, factor: Rational, digits: number) {
  const n = amount.n * factor.n * 10n ** BigInt(digits);
  const d = amount.d * factor.d;
  return { units: n / d, inexact: n % d !== 0n };
}

function bounded(terms: readonly [Rational, Rational][], digits: number): BoundedSum {
  let scaled = 0n;
  let negative = 0;
  let positive = 0;
  for (const [amount, factor] of terms) {
    const { units, inexact } = truncatedTerm(amount, factor, digits);
    scaled += units;
    if (inexact && amount.n < 0n) negative++;
    if (inexact && amount.n > 0n) positive++;
  }
  return BoundedSum.fromScaled(scaled.toString(), String(negative), String(positive), digits);
}

function exactText(terms: readonly [Rational, Rational][]): string {
  let sum: Rational = { n: 0n, d: 1n };
  for (const [amount, factor] of terms) {
    sum = addRational(sum, { n: amount.n * factor.n, d: amount.d * factor.d });
  }
  return rationalToText(sum);
}

Deno.test("a bounded converted sum: the exact sum's text, or undecided", () => {
  const random = mulberry32(20261202);
  const int = (max: number) => Math.floor(random() * max);
  let decided = 0;
  for (let trial = 0; trial < 2000; trial++) {
    const terms: [Rational, Rational][] = [];
    for (let i = 0, n = 1 + int(40); i < n; i++) {
      const sign = trial % 5 === 0 && random() < 0.3 ? -1n : 1n;
      const amount = { n: sign * BigInt(int(10_000_000)), d: 100n };
      // A cross rate: (EUR→USD) / (EUR→GBP), four decimals each, or a direct one.
      const factor = random() < 0.5
        ? { n: BigInt(5_000 + int(10_000)), d: BigInt(5_000 + int(10_000)) }
        : { n: BigInt(5_000 + int(10_000)), d: 10_000n };
      terms.push([amount, factor]);
    }
    // Same digits as the store, and few digits (wide bounds: undecided more often).
    for (const digits of [FACTOR_DIGITS, 31]) {
      const text = bounded(terms, digits).text();
      if (text === null) continue;
      assert.equal(text, exactText(terms), `trial ${trial}, ${digits} digits`);
      if (digits === FACTOR_DIGITS) decided++;
    }
  }
  assert.ok(decided > 1900, `decided ${decided} of 2000 at ${FACTOR_DIGITS} digits`);
  // Thirds that add up to a whole: every term is inexact, the sum is round.
  const third = { n: 1n, d: 3n };
  const thirds: [Rational, Rational][] = [[{ n: 100n, d: 100n }, third], [
    { n: 200n, d: 100n },
    third,
  ]];
  assert.equal(bounded(thirds, FACTOR_DIGITS).text(), null);
  assert.equal(exactText(thirds), "1");
});

const TENANT = "tenant-a";

for (const engine of ENGINES) {
  Deno.test({
    name: `converted totals and series stay exact when a bound cannot decide on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      const store = new SqlMetricsStore(db.driver);
      const fx = new SqlFxStore(db.driver);
      try {
        // GBP→USD through EUR: 1/3 on Monday, 2/3 on Tuesday (no finite decimal).
        await fx.upsertRates(TENANT, [
          { day: "2024-04-08", base: "EUR", quote: "USD", rate: "1" },
          { day: "2024-04-08", base: "EUR", quote: "GBP", rate: "3" },
          { day: "2024-04-09", base: "EUR", quote: "USD", rate: "2" },
          { day: "2024-04-09", base: "EUR", quote: "GBP", rate: "3" },
        ], "test");
        const row = (ts: string, cost: string, revenue: string, currency = "GBP") =>
          metricRow({ campaign_id: `cmp-${currency}`, ts, currency, cost, revenue });
        await store.upsert([
          row("2024-04-08T10:00:00Z", "1.00", "3.00"),
          row("2024-04-09T10:00:00Z", "1.00", "1.00"),
          row("2024-04-09T11:00:00Z", "2.50", "0", "USD"),
        ], { now: new Date("2024-04-10T00:00:00Z") });
        const selection = {
          tenantId: TENANT,
          from: new Date("2024-04-08T00:00:00Z"),
          to: new Date("2024-04-10T00:00:00Z"),
        };
        const usd = new ConvertedQueries(fx, "USD", "UTC");
        // Cost: 1/3 + 2/3 + 2.50 = 3.50 exactly (both GBP terms inexact); revenue: 1 + 2/3.
        const twoThirds = rationalToText({ n: 5n, d: 3n });
        const totals = await usd.totals(selection);
        assert.deepEqual(totals.totals.map((t) => [t.cost, t.revenue]), [["3.5", twoThirds]]);
        assert.deepEqual(totals.by_platform.map((t) => [t.platform, t.cost]), [["google", "3.5"]]);
        const weeks = await usd.series(selection, "week");
        assert.deepEqual(weeks.map((w) => [w.bucket, w.cost, w.revenue]), [
          ["2024-04-08", "3.5", twoThirds],
        ]);
        const days = await usd.series(selection, "day");
        assert.deepEqual(days.map((d) => [d.bucket, d.cost]), [
          ["2024-04-08", rationalToText({ n: 1n, d: 3n })],
          ["2024-04-09", rationalToText({ n: 19n, d: 6n })],
        ]);
        assert.deepEqual(usd.info().converted, [{ from: "GBP", paths: ["via EUR"] }]);
        assert.deepEqual(usd.info().rate_days, { first: "2024-04-08", last: "2024-04-09" });
        // Everything already in the target: no rate needed, none read.
        const plain = new ConvertedQueries(fx, "GBP", "UTC");
        const gbpOnly = await plain.totals({ ...selection, campaignIds: ["cmp-GBP"] });
        assert.deepEqual(gbpOnly.totals.map((t) => [t.cost, t.revenue]), [["2", "4"]]);
        assert.equal(plain.info().rate_days, null);
      } finally {
        await db.dispose();
      }
    },
  });
}
