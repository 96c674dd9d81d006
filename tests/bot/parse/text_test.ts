import assert from "node:assert/strict";
import { MASK } from "../../../lib/bot/parse/masked_text.ts";
import {
  alternation,
  countOf,
  foldCase,
  normalizeWords,
  takeQuotedName,
} from "../../../lib/bot/parse/text.ts";

Deno.test("takeQuotedName: the first quoted part is the name, apostrophes survive", () => {
  const double = takeQuotedName('ROAS for the “Spring  Sale” and "Other" campaigns');
  assert.equal(double.quotedName, "spring sale");
  assert.ok(double.text.includes(MASK));
  assert.ok(!double.text.includes("Spring"));
  const single = takeQuotedName("what's last week's spend on 'Back To School'?");
  assert.equal(single.quotedName, "back to school");
  assert.ok(single.text.startsWith("what's last week's spend"));
  assert.equal(takeQuotedName("no quotes here").quotedName, null);
});

Deno.test("foldCase: lower case, no accents, contractions spelled out, possessive kept", () => {
  assert.equal(foldCase("Café DIDN'T"), "cafe did not");
  assert.equal(foldCase("Last Week's ROAS"), "last week 's roas");
  assert.equal(foldCase("How'd we do"), "how did we do");
});

Deno.test("normalizeWords: symbols, shorthand and typos become plain words", () => {
  assert.equal(normalizeWords("spend l7d on fb/ig"), "spend last 7 days on fb and ig");
  assert.equal(normalizeWords("ctr yday"), "ctr yesterday");
  assert.equal(normalizeWords("clicks past 2w"), "clicks past 2 weeks");
  assert.equal(normalizeWords("retrun on facebok"), "return on facebook");
  // "Linked In" is one platform before any date rule can read its "in".
  assert.equal(normalizeWords("cpa for linked in, past 14 days"), "cpa for linkedin past 14 days");
  assert.equal(normalizeWords("on the 1st of march"), "on the 1st of march");
});

Deno.test("countOf and alternation", () => {
  assert.equal(countOf("12"), 12);
  assert.equal(countOf("three"), 3);
  assert.equal(countOf("a"), 1);
  // Longest phrases first, so "google ads" wins over "google".
  assert.equal(alternation(["a.b", "google", "google ads"]), "google ads|google|a\\.b");
});
