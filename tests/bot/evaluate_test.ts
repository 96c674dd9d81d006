/** The evaluation tool's scoring: `previous`, `tz` and `currency` cases, misses by kind. */
import assert from "node:assert/strict";
import { evaluateCases, kindOfKey, tallyByKind } from "../../lib/bot/evaluate.ts";

const PREVIOUS = {
  intent: "metric",
  metrics: ["roas"],
  platforms: ["google"],
  date_range: { from: "2024-04-15", to: "2024-04-21" },
  compare_to: null,
  campaign: null,
  group_by: null,
  order: null,
  limit: null,
};

const FILE = [
  // A follow-up, with a previous query written before `currency` existed.
  { id: "f1", prompt: "and for meta?", previous: PREVIOUS, expect: { platforms: ["meta"] } },
  {
    id: "z1",
    prompt: "spend yesterday",
    now: "2024-04-24T02:00:00Z",
    tz: "America/Los_Angeles",
    expect: { date_range: { from: "2024-04-22", to: "2024-04-22" } },
  },
  { id: "c1", prompt: "spend in euros", expect: { currency: "EUR" } },
  // Deliberate misses, one per kind.
  { id: "m1", prompt: "spend in euros", expect: { currency: "GBP", intent: "metric" } },
  { id: "m2", prompt: "spend yesterday", expect: { compare_to: { from: "x", to: "y" } } },
].map((line) => JSON.stringify(line)).join("\n");

Deno.test("evaluateCases reads previous, tz and currency", () => {
  const report = evaluateCases(FILE);
  assert.equal(report.total, 5);
  assert.deepEqual(
    report.results.filter((result) => result.passed).map((result) => result.id),
    ["f1", "z1", "c1"],
  );
});

Deno.test("tallyByKind groups the misses by what they got wrong", () => {
  const tallies = tallyByKind(evaluateCases(FILE));
  const byKind = Object.fromEntries(tallies.map((tally) => [tally.kind, tally]));
  assert.deepEqual(byKind.currency.missed, ["m1"]);
  assert.equal(byKind.currency.scored, 2);
  assert.deepEqual(byKind.dates.missed, ["m2"]);
  assert.deepEqual(byKind.intent.missed, []);
  assert.equal(kindOfKey("limit"), "ranking");
  assert.equal(kindOfKey("compare_to"), "dates");
});
