import assert from "node:assert/strict";
import type { CampaignRef } from "../../../lib/bot/query.ts";
import { extractCampaign, takeCampaignId } from "../../../lib/bot/parse/campaign_ref.ts";
import { MaskedText } from "../../../lib/bot/parse/masked_text.ts";
import { foldCase, normalizeWords } from "../../../lib/bot/parse/text.ts";

function reference(prompt: string): CampaignRef | null {
  const ids = takeCampaignId(foldCase(prompt));
  return extractCampaign(new MaskedText(normalizeWords(ids.text)), {
    quotedName: null,
    campaignId: ids.campaignId,
  });
}

Deno.test("takeCampaignId: the whole dashed token, never its tail", () => {
  assert.equal(takeCampaignId("campaign acme-cmp-1").campaignId, "acme-cmp-1");
  assert.equal(takeCampaignId("spend for cmp-42 today").campaignId, "cmp-42");
  assert.equal(takeCampaignId("roas of campaign id: 77").campaignId, "77");
  assert.equal(takeCampaignId("ctr of 120045678901").campaignId, "120045678901");
  assert.ok(!takeCampaignId("spend for cmp-42").text.includes("cmp"));
});

Deno.test("takeCampaignId: ordinary words with numbers and dates are not ids", () => {
  assert.equal(takeCampaignId("top-3 campaigns").campaignId, null);
  assert.equal(takeCampaignId("last-7 days").campaignId, null);
  assert.equal(takeCampaignId("on 2024-04-05").campaignId, null);
  assert.equal(takeCampaignId("12345 clicks").campaignId, null);
});

Deno.test("extractCampaign: latest, names and no reference", () => {
  assert.deepEqual(reference("roas of my newest google campaign"), { type: "latest" });
  assert.deepEqual(reference("ctr of the most recent campaign"), { type: "latest" });
  assert.deepEqual(reference("roas of the zebra secret launch campaign"), {
    type: "name",
    value: "zebra secret launch",
  });
  assert.deepEqual(reference("spend on the back to school campaign"), {
    type: "name",
    value: "back to school",
  });
  assert.deepEqual(reference("leads from the campaign called spring push last week"), {
    type: "name",
    value: "spring push",
  });
  assert.equal(reference("spend on my meta campaigns"), null);
  assert.equal(reference("clicks for last week's campaign"), null);
});

Deno.test("extractCampaign: ids and quoted names come first", () => {
  const text = new MaskedText("roas of the summer campaign");
  assert.deepEqual(extractCampaign(text, { quotedName: "x", campaignId: "cmp-9" }), {
    type: "id",
    value: "cmp-9",
  });
  assert.deepEqual(extractCampaign(text, { quotedName: "winter", campaignId: null }), {
    type: "name",
    value: "winter",
  });
});
