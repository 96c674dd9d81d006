import assert from "node:assert/strict";
import { MaskedText } from "../../../lib/bot/parse/masked_text.ts";
import { extractPlatforms, PLATFORM_WORDS } from "../../../lib/bot/parse/platforms.ts";
import { normalizeWords } from "../../../lib/bot/parse/text.ts";

function platforms(prompt: string) {
  return extractPlatforms(new MaskedText(normalizeWords(prompt.toLowerCase())));
}

Deno.test("extractPlatforms: names and aliases, in the order said, once each", () => {
  assert.deepEqual(platforms("FB and Insta vs YouTube"), ["meta", "google"]);
  assert.deepEqual(platforms("AdWords, Linked In and Tik Tok"), ["google", "linkedin", "tiktok"]);
  assert.deepEqual(platforms("Google Ads vs Facebook"), ["google", "meta"]);
  assert.deepEqual(platforms("spend on my campaigns"), []);
  assert.deepEqual(platforms("the price of metal"), []);
});

Deno.test("extractPlatforms masks what it read", () => {
  const text = new MaskedText("clicks on tiktok");
  extractPlatforms(text);
  assert.ok(!text.value.includes("tiktok"));
  assert.ok(PLATFORM_WORDS.has("tiktok") && PLATFORM_WORDS.has("linkedin"));
});
