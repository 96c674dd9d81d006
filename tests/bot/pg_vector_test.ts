/**
 * Campaign-name search with pgvector: on PGlite with the real extension, and the clean
 * fallback to the in-memory index on a PostgreSQL without it.
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
// PGlite 0.5 ships pgvector as its own package (@electric-sql/pglite-pgvector).
import { vector } from "@electric-sql/pglite-pgvector";
import { pgliteDriver, type SqlDriver } from "../../lib/store/driver.ts";
import { migrate } from "../../lib/store/migrate.ts";
import { MIGRATIONS } from "../../sql/migrations.ts";
import { cosineSimilarity, TfidfModel } from "../../lib/bot/embeddings.ts";
import {
  catalogIndexFactory,
  hashEmbedding,
  pgvectorAvailable,
  PgVectorIndex,
} from "../../lib/bot/pg_vector.ts";
import { CatalogIndexCache } from "../../lib/bot/client.ts";
import { resolveWithSearch } from "../../lib/bot/resolve.ts";
import { CampaignResolver, type CatalogEntry } from "../../lib/bot/resolve.ts";
import { VectorIndex } from "../../lib/bot/vector_search.ts";
import { promptExtension } from "../../handlers/prompt.ts";
import { postgresDatabase, postgresMissing, type TestDatabase } from "../support/databases.ts";
import { auth, KEY_A } from "../support/test_app.ts";
import { seededApp } from "./fixtures.ts";

const CATALOG: CatalogEntry[] = [
  { campaign_id: "c1", name: "Spring Promo 2024 – Retargeting", platform: "meta" },
  { campaign_id: "c2", name: "Summer Sale", platform: "google" },
  { campaign_id: "c3", name: "Black Friday Blitz", platform: "tiktok" },
  { campaign_id: "c4", name: "Brand Awareness Q1", platform: "linkedin" },
  { campaign_id: "c5", name: "Retargeting - Cart Abandoners", platform: "google" },
  { campaign_id: "c6", name: "Always-on Search", platform: "google" },
  { campaign_id: "c7", name: "Spring Promo 2024 – Prospecting", platform: "meta" },
];

const NAMES = [
  "spring promo",
  "sprng promo retargeting",
  "spring prospecting",
  "blck fridy",
  "summr sale",
  "the search campaign",
  "awareness",
  "retargeting",
  "C5",
  "holiday",
];

function vectorPglite(): SqlDriver {
  return pgliteDriver(new PGlite({ extensions: { vector } }));
}

function summary(resolution: Awaited<ReturnType<typeof resolveWithSearch<CatalogEntry>>>): string {
  if (resolution.kind === "match") return `match:${resolution.campaign.campaign_id}`;
  if (resolution.kind === "ambiguous") {
    return `ambiguous:${resolution.candidates.map((c) => c.campaign.campaign_id).sort()}`;
  }
  return "none";
}

Deno.test("hashed embeddings keep cosine similarities close to the sparse ones", () => {
  const model = new TfidfModel().fit(CATALOG.map((c) => c.name));
  const texts = [...CATALOG.map((c) => c.name), ...NAMES];
  let worst = 0;
  let total = 0;
  let pairs = 0;
  for (const a of texts) {
    const hashedA = hashEmbedding(model.transform(a));
    assert.ok(Math.abs(Math.hypot(...hashedA) - 1) < 1e-9, "unit length");
    for (const b of texts) {
      const hashedB = hashEmbedding(model.transform(b));
      const dense = hashedA.reduce((sum, value, i) => sum + value * hashedB[i], 0);
      const difference = Math.abs(dense - cosineSimilarity(model.transform(a), model.transform(b)));
      worst = Math.max(worst, difference);
      total += difference;
      pairs++;
    }
  }
  assert.ok(total / pairs < 0.02, `mean difference ${total / pairs}`);
  assert.ok(worst < 0.15, `largest difference ${worst}`);
});

Deno.test("pgvector on PGlite: names stored as vectors and searched with <=>", async (t) => {
  const db = vectorPglite();
  try {
    assert.equal(await pgvectorAvailable(db), false, "not installed until created");
    assert.equal(await pgvectorAvailable(db, { create: true }), true);
    const index = await PgVectorIndex.open<CatalogEntry>(db, { namespace: "tenant:a" });
    await index.replace(
      CATALOG.map((entry) => ({ id: entry.campaign_id, text: entry.name, payload: entry })),
    );

    await t.step("rows in the table, one per name, as vector(1024)", async () => {
      const rows = await db.query<{ n: number; dims: number }>(
        `SELECT count(*)::int AS n, max(vector_dims(embedding)) AS dims FROM ${index.table}
         WHERE namespace = 'tenant:a'`,
      );
      assert.deepEqual(rows[0], { n: 7, dims: 1024 });
    });

    await t.step("nearest names, best first, payloads intact", async () => {
      const matches = await index.search("blck fridy", 3);
      assert.equal(matches[0].payload.campaign_id, "c3");
      assert.deepEqual(matches[0].payload, CATALOG[2]);
      const spring = await index.search("spring promo retargeting", 3);
      assert.deepEqual(spring.slice(0, 2).map((m) => m.id), ["c1", "c7"]);
      assert.ok(spring[0].score > spring[1].score && spring[1].score >= (spring[2]?.score ?? 0));
      const exact = await index.search("Summer Sale", 1);
      assert.ok(Math.abs(exact[0].score - 1) < 1e-6);
    });

    await t.step("resolution over pgvector agrees with the in-memory resolver", async () => {
      const resolver = new CampaignResolver(CATALOG);
      for (const name of NAMES) {
        for (const platform of [undefined, "meta", "google"] as const) {
          assert.equal(
            summary(await resolveWithSearch(name, CATALOG, index, { platform })),
            summary(resolver.resolve(name, { platform })),
            `${name} (${platform})`,
          );
        }
      }
    });

    await t.step("namespaces are separate; replace rewrites one namespace", async () => {
      const other = await PgVectorIndex.open<CatalogEntry>(db, { namespace: "tenant:b" });
      await other.replace([{
        id: "b1",
        text: "Winter Deals",
        payload: { campaign_id: "b1", name: "Winter Deals", platform: "google" },
      }]);
      assert.deepEqual((await other.search("black friday", 5)).map((m) => m.id), []);
      assert.equal((await index.search("winter deals", 5)).some((m) => m.id === "b1"), false);
      await index.replace(
        CATALOG.slice(0, 2).map((entry) => ({
          id: entry.campaign_id,
          text: entry.name,
          payload: entry,
        })),
      );
      assert.deepEqual(
        (await index.search("black friday", 5)).map((m) => m.id).includes("c3"),
        false,
      );
      assert.equal((await other.search("winter", 1))[0].id, "b1");
    });

    await t.step("the factory picks pgvector where the extension is installed", async () => {
      const build = catalogIndexFactory(db, "auto");
      const built = await build(
        "tenant:c",
        CATALOG.map((entry) => ({ ...entry, campaign: {} as never })),
      );
      assert.ok(built instanceof PgVectorIndex);
    });
  } finally {
    await db.close();
  }
});

Deno.test("POST /prompt resolves names through pgvector on PGlite", async () => {
  const driver = vectorPglite();
  await migrate(driver, MIGRATIONS);
  const database: TestDatabase = { name: "pglite+vector", driver, dispose: () => driver.close() };
  const catalogCache = new CatalogIndexCache({ factory: catalogIndexFactory(driver, "pgvector") });
  const { app, dispose } = await seededApp({
    db: database,
    extensions: [promptExtension({ catalogCache })],
  });
  try {
    const ask = async (prompt: string) =>
      await (await app.request("/prompt", {
        method: "POST",
        headers: { ...auth(KEY_A), "Content-Type": "application/json" },
        body: JSON.stringify({ prompt }),
      })).json();
    const typo = await ask("roas for the blck fridy campaign");
    assert.equal(typo.data.kind, "metric");
    assert.equal(typo.data.subject.campaign_id, "t-1");
    assert.equal((await ask("ctr for the spring promo campaign")).data.kind, "ambiguous");
    const rows = await driver.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM bot_name_vectors_1024 WHERE namespace = 'tenant:tenant-a'",
    );
    assert.equal(rows[0].n, 5);
    assert.equal(catalogCache.builds, 1, "the second question reused the index");
  } finally {
    await dispose();
  }
});

Deno.test("without pgvector the in-memory index serves", async () => {
  const plain = pgliteDriver(new PGlite());
  try {
    assert.equal(await pgvectorAvailable(plain, { create: true }), false);
    const built = await catalogIndexFactory(plain, "pgvector")(
      "k",
      CATALOG.map((e) => ({ ...e, campaign: {} as never })),
    );
    assert.ok(built instanceof VectorIndex);
    assert.ok(catalogIndexFactory(undefined, "auto") !== undefined);
  } finally {
    await plain.close();
  }
});

Deno.test({
  name: "PostgreSQL without pgvector falls back cleanly",
  ignore: postgresMissing,
  async fn() {
    const database = await postgresDatabase({ max: 2 });
    try {
      assert.equal(await pgvectorAvailable(database.driver), false);
      assert.equal(await pgvectorAvailable(database.driver, { create: true }), false);
      // The failed CREATE EXTENSION left the pool usable.
      const [row] = await database.driver.query<{ one: number }>("SELECT 1 AS one");
      assert.equal(row.one, 1);
      for (const mode of ["auto", "pgvector"] as const) {
        const entries = CATALOG.map((entry) => ({ ...entry, campaign: {} as never }));
        const built = await catalogIndexFactory(database.driver, mode)("tenant:x", entries);
        assert.ok(built instanceof VectorIndex);
        const resolution = await resolveWithSearch("blck fridy", entries, built);
        assert.equal(resolution.kind === "match" && resolution.campaign.campaign_id, "c3");
      }
    } finally {
      await database.dispose();
    }
  },
});
