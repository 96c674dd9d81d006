import assert from "node:assert/strict";
import { correctTypo, editDistance } from "../../../lib/bot/parse/typos.ts";

Deno.test("editDistance counts a transposition as one edit", () => {
  assert.equal(editDistance("retrun", "return"), 1);
  assert.equal(editDistance("linkdin", "linkedin"), 1);
  assert.equal(editDistance("tiktk", "tiktok"), 1);
  assert.equal(editDistance("meta", "metal"), 1);
  assert.equal(editDistance("cpc", "cpm"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.ok(editDistance("conversations", "roas", 2) > 2);
});

Deno.test("correctTypo: one edit towards the domain words, short and known words untouched", () => {
  assert.equal(correctTypo("facebok"), "facebook");
  assert.equal(correctTypo("impresions"), "impressions");
  assert.equal(correctTypo("convesrions"), "conversions");
  // Short words sit too close to ordinary English to correct.
  assert.equal(correctTypo("mta"), "mta");
  assert.equal(correctTypo("most"), "most");
  // Known words and words with no near target stay as typed.
  assert.equal(correctTypo("google"), "google");
  assert.equal(correctTypo("zebra"), "zebra");
});
