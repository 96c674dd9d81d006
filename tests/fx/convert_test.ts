/** Exact conversion arithmetic: rate choice, the 7-day limit, rounding once per currency. */
import assert from "node:assert/strict";
import {
  Accumulator,
  Converter,
  MissingRateError,
  RateBook,
  rationalToText,
} from "../../lib/fx/convert.ts";
import { presentTotals } from "../../lib/kpi.ts";
import { roundDecimal } from "../../lib/decimal.ts";

const rate = (day: string, base: string, quote: string, value: string, source = "api") => ({
  day,
  base,
  quote,
  rate: value,
  source,
});

const sums = (cost: string, currency: string, day: string | null) => ({
  impressions: "10",
  clicks: "1",
  conversions: "0.5",
  cost,
  revenue: "0",
  currency,
  day,
});

Deno.test("rounding to odd keeps the single final rounding exact", () => {
  // 1/3 and 2/3 carried, then rounded: as the rationals themselves round.
  assert.equal(roundDecimal(rationalToText({ n: 1n, d: 3n }), 2), "0.33");
  assert.equal(roundDecimal(rationalToText({ n: 2n, d: 3n }), 2), "0.67");
  // Just below a half cent stays below it; exactly a half cent goes away from zero.
  assert.equal(roundDecimal(rationalToText({ n: 5n * 10n ** 40n - 1n, d: 10n ** 43n }), 2), "0.00");
  assert.equal(roundDecimal(rationalToText({ n: 5n, d: 1000n }), 2), "0.01");
  assert.equal(rationalToText({ n: 1234n, d: 100n }), "12.34");
});

Deno.test("the rate of the day, else the latest earlier one at most 7 days old", () => {
  const book = new RateBook([
    rate("2024-04-01", "EUR", "USD", "1.1"),
    rate("2024-04-05", "EUR", "USD", "1.2"),
  ]);
  assert.equal(book.factor("EUR", "USD", "2024-04-05")?.firstDay, "2024-04-05");
  assert.equal(book.factor("EUR", "USD", "2024-04-04")?.firstDay, "2024-04-01");
  assert.equal(book.factor("EUR", "USD", "2024-04-12")?.firstDay, "2024-04-05"); // 7 days
  assert.equal(book.factor("EUR", "USD", "2024-04-13"), null); // 8 days
  assert.equal(book.factor("EUR", "USD", "2024-03-31"), null); // nothing earlier
  assert.equal(book.factor("USD", "EUR", "2024-04-05")?.path, "inverse");
});

Deno.test("cross rates through any stored base; the freshest way wins", () => {
  const book = new RateBook([
    rate("2024-04-05", "EUR", "USD", "1.08"),
    rate("2024-04-05", "EUR", "GBP", "0.86"),
    rate("2024-04-01", "GBP", "USD", "1.30", "csv"),
  ]);
  const cross = book.factor("GBP", "USD", "2024-04-05")!;
  assert.equal(cross.path, "via EUR");
  assert.deepEqual(cross.rate, { n: 108n * 100n, d: 100n * 86n });
  // On 04-03 only the direct rate of 04-01 exists.
  assert.equal(book.factor("GBP", "USD", "2024-04-03")?.path, "direct");
});

Deno.test("minor units: JPY none, KWD three, half away from zero", () => {
  const book = new RateBook([
    rate("2024-04-05", "EUR", "JPY", "164.5"),
    rate("2024-04-05", "EUR", "KWD", "0.3335"),
  ]);
  for (
    const [target, cost, expected] of [
      ["JPY", "0.01", 2], // 1.645 → 2
      ["JPY", "10.03", 1650], // 1649.935 → 1650
      ["KWD", "1.5", 0.5], // 0.50025 → 0.500
      ["KWD", "1.515", 0.505], // 0.5052525 → 0.505
    ] as const
  ) {
    const converter = new Converter(target);
    const into = new Accumulator();
    converter.add(into, sums(cost, "EUR", "2024-04-05"), book);
    assert.equal(presentTotals(into.sums(), target).cost, expected, `${cost} EUR in ${target}`);
  }
});

Deno.test("same currency is never touched; a missing rate names pair and day", () => {
  const converter = new Converter("USD");
  const into = new Accumulator();
  converter.add(into, sums("0.005", "USD", null), new RateBook([]));
  assert.equal(into.sums().cost, "0.005");
  assert.equal(converter.info().converted.length, 0);
  assert.throws(
    () => converter.add(into, sums("1", "EUR", "2024-04-06"), new RateBook([])),
    (error: unknown) =>
      error instanceof MissingRateError && /EUR→USD/.test(error.message) &&
      /2024-04-06/.test(error.message),
  );
});

Deno.test("the fast sum of converted amounts equals the exact rational sum", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const exactText = (terms: { amount: bigint; scale: number; n: bigint; d: bigint }[]) => {
    let n = 0n;
    let d = 1n;
    for (const term of terms) {
      const tn = term.amount * term.n;
      const td = 10n ** BigInt(term.scale) * term.d;
      n = n * td + tn * d;
      d = d * td;
    }
    return rationalToText({ n, d });
  };
  for (let round = 0; round < 200; round++) {
    const terms = Array.from({ length: 1 + (next() % 40) }, () => ({
      amount: BigInt(next() % 1_000_000),
      scale: next() % 3,
      n: BigInt(1 + (next() % 20_000)),
      d: BigInt(1 + (next() % 20_000)),
    }));
    const into = new Accumulator();
    terms.forEach((term, i) => {
      const text = term.amount.toString().padStart(term.scale + 1, "0");
      const cost = term.scale ? `${text.slice(0, -term.scale)}.${text.slice(-term.scale)}` : text;
      into.add(
        { impressions: "0", clicks: "0", conversions: "0", cost, revenue: "0" },
        `k${i}`,
        { n: term.n, d: term.d },
      );
    });
    assert.equal(into.sums().cost, exactText(terms), `round ${round}`);
  }
  // A sum exactly on a carried boundary, reached through inexact terms (1/3 + 2/3).
  const into = new Accumulator();
  const zero = { impressions: "0", clicks: "0", conversions: "0", revenue: "0" };
  into.add({ ...zero, cost: "1" }, "a", { n: 1n, d: 3n });
  into.add({ ...zero, cost: "2" }, "b", { n: 1n, d: 3n });
  assert.equal(into.sums().cost, "1");
});
