/**
 * Campaign-name vectors in PostgreSQL with pgvector, behind the same `VectorSearch`
 * interface as the in-memory `VectorIndex`.
 *
 * The sparse TF-IDF vector of a name (words plus character 3-grams, embeddings.ts) is
 * folded into a fixed number of dimensions by feature hashing (each sparse index lands
 * in one slot with a pseudo-random sign, so collisions cancel out on average rather
 * than inflate similarities), L2-normalized, and stored as `vector(N)`. A query is
 * embedded the same way and ranked with `ORDER BY embedding <=> $query` (cosine
 * distance); the score is 1 − distance. The TF-IDF model (vocabulary, idf) is fitted on
 * the names when the index is (re)built and kept in memory to embed queries.
 *
 * Where the extension is missing (PostgreSQL 15 without pgvector, PGlite without the
 * extension loaded), `catalogIndexFactory` falls back to the in-memory index.
 * The SQL driver is passed in: lib/ opens no connection itself.
 */
import type { SqlDriver, SqlExecutor } from "../store/driver.ts";
import type { Logger } from "../log.ts";
import { type SparseVector, TfidfModel, type TfidfOptions } from "./embeddings.ts";
import type { IndexItem, Match, VectorSearch } from "./vector_search.ts";
import { type CatalogIndexFactory, memoryIndexFactory } from "./client.ts";
import { mix32 } from "../random.ts";

/**
 * 1024 slots: on short campaign names the hashed cosine stays within about 0.01 of the
 * sparse one on average (512 slots: 0.02), at 4 KiB a row.
 */
export const DEFAULT_DIMENSIONS = 1024;
const TABLE_PREFIX = "bot_name_vectors";

/** Folds a sparse vector into `dimensions` slots (signed feature hashing), L2-normalized. */
export function hashEmbedding(vector: SparseVector, dimensions = DEFAULT_DIMENSIONS): number[] {
  const dense = new Array<number>(dimensions).fill(0);
  vector.indices.forEach((index, position) => {
    const hash = mix32(index);
    const sign = mix32(hash ^ 0x9e3779b9) & 1 ? -1 : 1;
    dense[hash % dimensions] += sign * vector.values[position];
  });
  let norm = 0;
  for (const value of dense) norm += value * value;
  norm = Math.sqrt(norm);
  return norm === 0 ? dense : dense.map((value) => value / norm);
}

/** pgvector's text form: '[0.1,0.2,...]'. */
export function vectorLiteral(values: readonly number[]): string {
  return `[${
    values.map((value) => (Object.is(value, -0) ? 0 : Number(value.toPrecision(7)))).join(",")
  }]`;
}

/**
 * Whether pgvector can be used. With `create`, tries `CREATE EXTENSION IF NOT EXISTS
 * vector` first (needs the privilege and the extension's files); otherwise only looks
 * for an installed extension. Never throws.
 */
export async function pgvectorAvailable(
  db: SqlExecutor,
  options: { create?: boolean } = {},
): Promise<boolean> {
  try {
    if (options.create) await db.query("CREATE EXTENSION IF NOT EXISTS vector");
    const rows = await db.query("SELECT 1 AS present FROM pg_extension WHERE extname = 'vector'");
    return rows.length > 0;
  } catch {
    return false;
  }
}

/** Which namespace a `PgVectorIndex` is, its dimensions, and its TF-IDF settings. */
export interface PgVectorOptions extends TfidfOptions {
  /** Which index of the table this is (a tenant key); rows of other namespaces are untouched. */
  namespace: string;
  /** Slots of the stored vectors (1 to 16000); default 1024. */
  dimensions?: number;
}

/**
 * One namespace of the shared table. `replace` fits the TF-IDF model and rewrites the
 * namespace's rows in one transaction; `search` embeds the query with that model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PGlite } from "@electric-sql/pglite";
 * import { vector } from "@electric-sql/pglite-pgvector";
 * import { PgVectorIndex, pgliteDriver } from "@campaign-analytics/core/store";
 *
 * const driver = pgliteDriver(new PGlite({ extensions: { vector } }));
 * await driver.query("CREATE EXTENSION IF NOT EXISTS vector");
 * const index = await PgVectorIndex.open<{ platform: string }>(driver, { namespace: "acme" });
 * await index.replace([
 *   { id: "c1", text: "Spring Promo 2024", payload: { platform: "meta" } },
 *   { id: "c2", text: "Black Friday Blitz", payload: { platform: "tiktok" } },
 * ]);
 * const [best] = await index.search("black friday", 1);
 * assert.equal(best.id, "c2");
 * assert.equal(best.payload.platform, "tiktok");
 * await driver.close();
 * ```
 */
export class PgVectorIndex<T> implements VectorSearch<T> {
  readonly #db: SqlDriver;
  readonly #namespace: string;
  readonly #dimensions: number;
  readonly #model: TfidfModel;
  readonly #table: string;

  private constructor(db: SqlDriver, options: PgVectorOptions) {
    this.#db = db;
    this.#namespace = options.namespace;
    this.#dimensions = options.dimensions ?? DEFAULT_DIMENSIONS;
    if (!Number.isInteger(this.#dimensions) || this.#dimensions < 1 || this.#dimensions > 16000) {
      throw new RangeError("dimensions must be an integer from 1 to 16000");
    }
    this.#model = new TfidfModel(options);
    this.#table = `${TABLE_PREFIX}_${this.#dimensions}`;
  }

  /** Opens (and creates when missing) the table; the extension must be installed. */
  static async open<T>(db: SqlDriver, options: PgVectorOptions): Promise<PgVectorIndex<T>> {
    const index = new PgVectorIndex<T>(db, options);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${index.#table} (
         namespace text NOT NULL,
         item_id text NOT NULL,
         body text NOT NULL,
         payload jsonb NOT NULL,
         embedding vector(${index.#dimensions}) NOT NULL,
         PRIMARY KEY (namespace, item_id)
       )`,
    );
    return index;
  }

  /** The table the embeddings live in. */
  get table(): string {
    return this.#table;
  }

  /** The dense (hashed TF-IDF) embedding of `text` this index stores and searches with. */
  embed(text: string): number[] {
    return hashEmbedding(this.#model.transform(text), this.#dimensions);
  }

  /** Replaces this namespace's items with `items` (refitting the model) in one transaction. */
  async replace(items: readonly IndexItem<T>[]): Promise<void> {
    this.#model.fit(items.map((item) => item.text));
    const ids = items.map((item) => item.id);
    const bodies = items.map((item) => item.text);
    const payloads = items.map((item) => JSON.stringify(item.payload ?? null));
    const embeddings = items.map((item) => vectorLiteral(this.embed(item.text)));
    await this.#db.transaction(async (tx) => {
      await tx.query(`DELETE FROM ${this.#table} WHERE namespace = $1`, [this.#namespace]);
      if (items.length === 0) return;
      await tx.query(
        `INSERT INTO ${this.#table} (namespace, item_id, body, payload, embedding)
         SELECT $1, u.item_id, u.body, u.payload::jsonb, u.embedding::vector
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
           AS u(item_id, body, payload, embedding)`,
        [this.#namespace, ids, bodies, payloads, embeddings],
      );
    });
  }

  /** The `k` items nearest to `query` by cosine distance, best first. */
  async search(query: string, k: number): Promise<Match<T>[]> {
    if (k <= 0) return [];
    const embedding = this.embed(query);
    if (embedding.every((value) => value === 0)) return [];
    const rows = await this.#db.query<{ item_id: string; payload: unknown; score: number }>(
      `SELECT item_id, payload, 1 - (embedding <=> $2::vector) AS score
       FROM ${this.#table}
       WHERE namespace = $1
       ORDER BY embedding <=> $2::vector, item_id
       LIMIT $3::int`,
      [this.#namespace, vectorLiteral(embedding), k],
    );
    return rows
      .map((row) => ({
        id: row.item_id,
        score: Math.min(1, Number(row.score)),
        payload: (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as T,
      }))
      // As the in-memory index: nothing in common, no match.
      .filter((match) => match.score > 1e-9);
  }
}

export type VectorStoreMode = "auto" | "memory" | "pgvector";

/**
 * The catalog index factory for a deployment:
 * - `memory`: always the in-memory index;
 * - `auto`: pgvector when the extension is already installed in the database, else memory;
 * - `pgvector`: also tries to install the extension; falls back to memory (with a warning)
 *   when it cannot.
 * Detection runs once, on first use.
 */
export function catalogIndexFactory(
  db: SqlDriver | undefined,
  mode: VectorStoreMode,
  options: { logger?: Logger; dimensions?: number } = {},
): CatalogIndexFactory {
  if (!db || mode === "memory") return memoryIndexFactory;
  let usable: Promise<boolean> | undefined;
  return async (key, entries) => {
    usable ??= pgvectorAvailable(db, { create: mode === "pgvector" }).then((ok) => {
      if (ok) options.logger?.info("bot: campaign names searched with pgvector");
      else if (mode === "pgvector") {
        options.logger?.warn("bot: pgvector is not available; campaign names searched in memory");
      }
      return ok;
    });
    if (!(await usable)) return await memoryIndexFactory(key, entries);
    const index = await PgVectorIndex.open<(typeof entries)[number]>(db, {
      namespace: key,
      dimensions: options.dimensions,
    });
    await index.replace(
      entries.map((entry, position) => ({
        id: String(position),
        text: entry.name,
        payload: entry,
      })),
    );
    return index;
  };
}
