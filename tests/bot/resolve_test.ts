import assert from "node:assert/strict";
import { CampaignResolver, type CatalogEntry, resolveCampaignName } from "../../lib/bot/resolve.ts";

const CATALOG: CatalogEntry[] = [
  { campaign_id: "c1", name: "Spring Promo 2024 – Retargeting", platform: "meta" },
  { campaign_id: "c2", name: "Summer Sale", platform: "google" },
  { campaign_id: "c3", name: "Black Friday Blitz", platform: "tiktok" },
  { campaign_id: "c4", name: "Brand Awareness Q1", platform: "linkedin" },
  { campaign_id: "c5", name: "Retargeting - Cart Abandoners", platform: "google" },
  { campaign_id: "c6", name: "Always-on Search", platform: "google" },
];
const WITH_TWIN: CatalogEntry[] = [
  ...CATALOG,
  { campaign_id: "c7", name: "Spring Promo 2024 – Prospecting", platform: "meta" },
];

function matchedId(name: string, catalog = CATALOG): string | undefined {
  const resolution = resolveCampaignName(name, catalog);
  return resolution.kind === "match" ? resolution.campaign.campaign_id : undefined;
}

Deno.test("a partial name matches the one campaign it belongs to", () => {
  assert.equal(matchedId("spring promo"), "c1");
  assert.equal(matchedId("black friday"), "c3");
  assert.equal(matchedId("awareness"), "c4");
  assert.equal(matchedId("summer"), "c2");
  assert.equal(matchedId("the search campaign"), "c6");
});

Deno.test("typos still match", () => {
  assert.equal(matchedId("sprng promo"), "c1");
  assert.equal(matchedId("spring promo retargetting"), "c1");
  assert.equal(matchedId("blck fridy"), "c3");
  assert.equal(matchedId("summr sale"), "c2");
});

Deno.test("exact names and ids win, whatever the case and punctuation", () => {
  const resolution = resolveCampaignName("spring promo 2024 retargeting", CATALOG);
  assert.deepEqual(resolution, { kind: "match", campaign: CATALOG[0], score: 1 });
  assert.equal(matchedId("C5"), "c5");
});

Deno.test("two close candidates are ambiguous", () => {
  const resolution = resolveCampaignName("spring promo", WITH_TWIN);
  assert.equal(resolution.kind, "ambiguous");
  if (resolution.kind !== "ambiguous") return;
  assert.deepEqual(resolution.candidates.map((c) => c.campaign.campaign_id).sort(), ["c1", "c7"]);
  assert.ok(resolution.candidates[0].score >= resolution.candidates[1].score);

  const shared = resolveCampaignName("retargeting", CATALOG);
  assert.equal(shared.kind, "ambiguous");
});

Deno.test("saying more of the name settles the ambiguity", () => {
  assert.equal(matchedId("spring promo retargeting", WITH_TWIN), "c1");
  assert.equal(matchedId("spring prospecting", WITH_TWIN), "c7");
});

Deno.test("the platform narrows the candidates", () => {
  const resolution = resolveCampaignName("retargeting", CATALOG, { platform: "meta" });
  assert.equal(resolution.kind, "match");
  assert.equal(resolution.kind === "match" && resolution.campaign.campaign_id, "c1");
  assert.deepEqual(resolveCampaignName("black friday", CATALOG, { platform: "meta" }), {
    kind: "none",
  });
});

Deno.test("unrelated names match nothing", () => {
  for (const name of ["holiday", "winter clearance", "xyz", "", "   "]) {
    assert.deepEqual(resolveCampaignName(name, CATALOG), { kind: "none" }, name);
  }
  assert.deepEqual(resolveCampaignName("spring", []), { kind: "none" });
});

Deno.test("a resolver indexes its catalog once and answers many names", () => {
  const resolver = new CampaignResolver(WITH_TWIN);
  assert.equal(resolver.resolve("black friday").kind, "match");
  assert.equal(resolver.resolve("spring promo").kind, "ambiguous");
  assert.equal(resolver.resolve("nothing like it").kind, "none");
});

Deno.test("duplicate names are ambiguous, not a coin toss", () => {
  const catalog: CatalogEntry[] = [
    { campaign_id: "a", name: "Evergreen", platform: "meta" },
    { campaign_id: "b", name: "Evergreen", platform: "google" },
  ];
  const resolution = resolveCampaignName("evergreen", catalog);
  assert.equal(resolution.kind, "ambiguous");
  assert.equal(matchedId("evergreen", catalog.slice(0, 1)), "a");
});
