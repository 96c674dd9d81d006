import assert from "node:assert/strict";
import { extractCurrency, isExchangeRateQuestion } from "../../../lib/bot/parse/currency.ts";
import { MaskedText } from "../../../lib/bot/parse/masked_text.ts";
import { foldCase, normalizeWords } from "../../../lib/bot/parse/text.ts";

function currencyOf(prompt: string): string | null {
  return extractCurrency(new MaskedText(normalizeWords(foldCase(prompt))), prompt);
}

Deno.test("extractCurrency: names, symbols and ISO codes after 'in'", () => {
  const cases: [string, string | null][] = [
    ["spend last month in euros", "EUR"],
    ["revenue in £", "GBP"],
    ["total in $ please", "USD"],
    ["cpa in USD", "USD"],
    ["roas for q1 in jpy", "JPY"],
    ["spend converted to canadian dollars", "CAD"],
    ["show it in aussie dollars", "AUD"],
    ["revenue in quid", "GBP"],
    ["spend in sterling", "GBP"],
    ["meta spend (eur)", "EUR"],
    ["spend in TRY", "TRY"],
    // Ordinary words that are also ISO codes, and amounts, are not a reporting currency.
    ["spend in all platforms", null],
    ["try the top campaigns", null],
    ["how many dollars did we spend", null],
    ["campaigns that spent over 500 dollars", null],
    ["roas last week", null],
  ];
  for (const [prompt, expected] of cases) assert.equal(currencyOf(prompt), expected, prompt);
});

Deno.test("extractCurrency masks the words it read, so they are not read as spend", () => {
  const text = new MaskedText("revenue in pounds");
  extractCurrency(text, "revenue in pounds");
  assert.ok(!text.value.includes("pounds"));
});

Deno.test("isExchangeRateQuestion: exchange rates, not ad questions", () => {
  for (
    const prompt of [
      "what is the conversion rate from usd to eur",
      "exchange rate for pounds",
      "how many euros is 100 dollars",
      "convert 50 usd to gbp",
      "gbp vs usd today",
    ]
  ) {
    assert.ok(isExchangeRateQuestion(normalizeWords(foldCase(prompt))), prompt);
  }
  for (const prompt of ["conversion rate on meta", "spend to date in usd", "revenue in euros"]) {
    assert.ok(!isExchangeRateQuestion(normalizeWords(foldCase(prompt))), prompt);
  }
});
