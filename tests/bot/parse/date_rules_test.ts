import assert from "node:assert/strict";
import { toDateRange } from "../../../lib/bot/parse/calendar.ts";
import { DATE_RULES } from "../../../lib/bot/parse/date_rules.ts";

const TODAY = new Date(2024, 3, 24);

/** The first rule of the table that reads `text` whole, and what it read. */
function readWhole(text: string) {
  for (const rule of DATE_RULES) {
    for (const match of text.matchAll(rule.pattern)) {
      if (match.index !== 0 || match[0].length !== text.length) continue;
      const draft = rule.read(match, TODAY, text);
      if (draft) return draft;
    }
  }
  return null;
}

function rangeOf(text: string) {
  const draft = readWhole(text);
  assert.ok(draft?.span, `no rule reads "${text}"`);
  return toDateRange(draft.span);
}

Deno.test("every rule's pattern is global (the extractor scans them all)", () => {
  for (const rule of DATE_RULES) assert.ok(rule.pattern.global, String(rule.pattern));
});

Deno.test("the table reads each documented expression (today = Wednesday 2024-04-24)", () => {
  const table: [string, string, string][] = [
    ["2024-04-05", "2024-04-05", "2024-04-05"],
    ["april 5", "2024-04-05", "2024-04-05"],
    ["the 1st of march", "2024-03-01", "2024-03-01"],
    ["yesterday", "2024-04-23", "2024-04-23"],
    ["last week", "2024-04-15", "2024-04-21"],
    ["this week", "2024-04-22", "2024-04-24"],
    ["last 7 days", "2024-04-17", "2024-04-23"],
    ["the past week", "2024-04-17", "2024-04-23"],
    ["last 3 months", "2024-01-01", "2024-03-31"],
    ["mtd", "2024-04-01", "2024-04-24"],
    ["q1 2024", "2024-01-01", "2024-03-31"],
    ["q4", "2023-10-01", "2023-12-31"],
    ["last year", "2023-01-01", "2023-12-31"],
    ["june", "2023-06-01", "2023-06-30"],
    ["april", "2024-04-01", "2024-04-24"],
    ["recently", "2024-04-17", "2024-04-23"],
  ];
  for (const [text, from, to] of table) assert.deepEqual(rangeOf(text), { from, to }, text);
});

Deno.test("words that only look like dates are not read alone", () => {
  // "may" and "sat" are words first: without a preposition they are no date.
  assert.equal(readWhole("may"), null);
  assert.equal(readWhole("sat"), null);
  // Relative words lean on the period before them: alone they have no span.
  assert.equal(readWhole("the same period last year")?.span, null);
});
