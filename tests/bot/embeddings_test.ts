import assert from "node:assert/strict";
import {
  charNgrams,
  cosineSimilarity,
  normalizeText,
  TfidfModel,
  tokenize,
  vectorNorm,
  wordTokens,
} from "../../lib/bot/embeddings.ts";
import { VectorIndex } from "../../lib/bot/vector_search.ts";

const close = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, message ?? `${actual} ≠ ${expected}`);

Deno.test("tokenizer", async (t) => {
  await t.step("words: lower case, accents stripped, split on anything else", () => {
    assert.equal(normalizeText("Promoción ÉTÉ"), "promocion ete");
    assert.deepEqual(wordTokens("Spring Promo 2024 – Retargeting!"), [
      "spring",
      "promo",
      "2024",
      "retargeting",
    ]);
    assert.deepEqual(wordTokens("  ...  "), []);
  });
  await t.step("character 3-grams are padded with word boundaries", () => {
    assert.deepEqual(charNgrams("promo"), ["<pr", "pro", "rom", "omo", "mo>"]);
    assert.deepEqual(charNgrams("ab"), ["<ab", "ab>"]);
    assert.deepEqual(charNgrams("a"), ["<a>"]);
    assert.deepEqual(charNgrams("abc", 2), ["<a", "ab", "bc", "c>"]);
  });
  await t.step("tokens are the words followed by their marked n-grams", () => {
    assert.deepEqual(tokenize("Hi yo"), ["hi", "yo", "#<hi", "#hi>", "#<yo", "#yo>"]);
    assert.deepEqual(tokenize("Hi yo", { ngramSize: 0 }), ["hi", "yo"]);
    assert.deepEqual(tokenize("Hi", { words: false }), ["#<hi", "#hi>"]);
  });
});

Deno.test("idf on a tiny corpus, by hand", () => {
  // Words only. N = 3 documents; "ads" is in all three, "meta" in two, "tiktok" in one.
  const model = new TfidfModel({ ngramSize: 0 }).fit(["meta ads", "meta ads", "tiktok ads"]);
  assert.equal(model.documentCount, 3);
  assert.equal(model.size, 3);
  // idf(t) = ln((1 + N) / (1 + df)) + 1
  close(model.idf("ads")!, 1); // ln(4/4) + 1
  close(model.idf("meta")!, Math.log(4 / 3) + 1); // ≈ 1.2876821
  close(model.idf("tiktok")!, Math.log(2) + 1); // ≈ 1.6931472
  close(model.idf("tiktok")!, 1.6931471805599454);
  assert.equal(model.idf("google"), undefined);

  // "tiktok ads" → (ads: 1, tiktok: 1.6931…) normalized.
  const vector = model.transform("tiktok ads");
  const norm = Math.hypot(1, Math.log(2) + 1);
  assert.deepEqual(vector.indices, [0, 2]); // sorted vocabulary: ads, meta, tiktok
  close(vector.values[0], 1 / norm);
  close(vector.values[1], (Math.log(2) + 1) / norm);
  close(vectorNorm(vector), 1);
});

Deno.test("term frequency is sublinear by default, raw on request", () => {
  const sublinear = new TfidfModel({ ngramSize: 0 }).fit(["a b"]);
  const raw = new TfidfModel({ ngramSize: 0, sublinearTf: false }).fit(["a b"]);
  const ratio = (model: TfidfModel) => {
    const vector = model.transform("a a b");
    return vector.values[0] / vector.values[1];
  };
  close(ratio(sublinear), 1 + Math.log(2));
  close(ratio(raw), 2);
});

Deno.test("cosine similarity", async (t) => {
  const model = new TfidfModel().fit([
    "Spring Promo 2024",
    "Black Friday Blitz",
    "Brand Awareness",
    "Summer Sale",
  ]);
  await t.step("identical texts score 1, also with unseen words", () => {
    close(cosineSimilarity(model.transform("spring promo"), model.transform("Spring  PROMO")), 1);
    close(cosineSimilarity(model.transform("zebra quux"), model.transform("zebra quux")), 1);
  });
  await t.step("disjoint texts score 0", () => {
    assert.equal(cosineSimilarity(model.transform("spring"), model.transform("blitz")), 0);
    assert.equal(cosineSimilarity(model.transform(""), model.transform("spring")), 0);
  });
  await t.step("a typo stays closer than an unrelated word", () => {
    const target = model.transform("Spring Promo 2024");
    const typo = cosineSimilarity(model.transform("sprng promo"), target);
    const unrelated = cosineSimilarity(model.transform("summer sale"), target);
    assert.ok(typo > 0.3, `typo ${typo}`);
    assert.ok(typo > unrelated + 0.2, `typo ${typo} vs unrelated ${unrelated}`);
  });
  await t.step("unseen words dilute the query instead of vanishing", () => {
    // "holiday" shares "ida", "day", "ay>" with "friday" only.
    const score = cosineSimilarity(
      model.transform("holiday"),
      model.transform("Black Friday Blitz"),
    );
    assert.ok(score < 0.3, `${score}`);
  });
  await t.step("deterministic: same corpus, same vectors", () => {
    const again = new TfidfModel().fit([
      "Summer Sale",
      "Brand Awareness",
      "Black Friday Blitz",
      "Spring Promo 2024",
    ]);
    assert.deepEqual(again.transform("spring sale"), model.transform("spring sale"));
  });
});

Deno.test("VectorIndex: top-k by cosine", async (t) => {
  const index = new VectorIndex<{ platform: string }>()
    .add("1", "Spring Promo 2024 – Retargeting", { platform: "meta" })
    .add("2", "Spring Sale 2023", { platform: "google" })
    .add("3", "Black Friday Blitz", { platform: "tiktok" })
    .add("4", "Brand Awareness Q1", { platform: "linkedin" });

  await t.step("best first, scores descending, payload carried", () => {
    const matches = index.searchSync("spring promo", 3);
    assert.deepEqual(matches.map((match) => match.id), ["1", "2"]);
    assert.ok(matches[0].score > matches[1].score);
    assert.equal(matches[0].payload.platform, "meta");
  });
  await t.step("k limits the answer; items with nothing in common are left out", () => {
    assert.equal(index.searchSync("spring", 1).length, 1);
    assert.deepEqual(index.searchSync("xyzzy", 5), []);
    assert.deepEqual(index.searchSync("spring", 0), []);
  });
  await t.step("the async search gives the same answer", async () => {
    assert.deepEqual(await index.search("black friday", 2), index.searchSync("black friday", 2));
  });
  await t.step("adding an item refits; an id added twice is replaced", () => {
    index.add("5", "Spring Promo 2024 – Prospecting", { platform: "meta" });
    index.add("2", "Evergreen Search", { platform: "google" });
    assert.equal(index.size, 5);
    const ids = index.searchSync("spring promo", 5).map((match) => match.id);
    assert.deepEqual(ids.slice(0, 2).sort(), ["1", "5"]);
    assert.ok(!ids.includes("2"));
  });
  await t.step("an empty index finds nothing", async () => {
    assert.deepEqual(await new VectorIndex().search("anything", 3), []);
  });
});
