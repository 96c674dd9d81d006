import assert from "node:assert/strict";
import { MASK, MaskedText } from "../../../lib/bot/parse/masked_text.ts";

Deno.test("MaskedText: scan masks only the matches the callback accepts", () => {
  const text = new MaskedText("spend on meta and tiktok");
  const seen: string[] = [];
  text.scan(/\b(meta|tiktok)\b/g, (match) => {
    seen.push(match[1]);
    return match[1] === "meta";
  });
  assert.deepEqual(seen, ["meta", "tiktok"]);
  assert.equal(text.value, `spend on ${MASK.repeat(4)} and tiktok`);
  // A masked word is gone for later rules, and word boundaries still work around it.
  assert.equal(/\bmeta\b/.test(text.value), false);
  assert.equal(/\band\b/.test(text.value), true);
});
