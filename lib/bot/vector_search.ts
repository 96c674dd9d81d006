/**
 * In-memory nearest-neighbour search over TF-IDF vectors.
 *
 * The interface is deliberately small: `VectorSearch.search(query, k)` is async so a
 * pgvector-backed index (embeddings in a table, `ORDER BY embedding <=> $1 LIMIT k`)
 * can implement the same signature later. The in-memory `VectorIndex` also offers
 * `searchSync` for hot paths inside the parser, where awaiting would buy nothing.
 */
import {
  cosineSimilarity,
  type SparseVector,
  TfidfModel,
  type TfidfOptions,
} from "./embeddings.ts";

/** One search hit: the item's id, its payload, and the cosine similarity in [0, 1]. */
export interface Match<T> {
  /** The id the item was added with. */
  readonly id: string;
  /** Cosine similarity to the query, in (0, 1]. */
  readonly score: number;
  /** What the item was added with. */
  readonly payload: T;
}

/** What every vector store offers the bot. */
export interface VectorSearch<T> {
  /** The `k` items most similar to `query`, best first. */
  search(query: string, k: number): Promise<Match<T>[]>;
}

/** An item to index: its id, the text it is found by, and what a hit returns. */
export interface IndexItem<T> {
  /** Unique within the index; adding an existing id replaces the item. */
  readonly id: string;
  /** The text the item is found by. */
  readonly text: string;
  /** Returned with every hit. */
  readonly payload: T;
}

interface StoredItem<T> extends IndexItem<T> {
  vector: SparseVector;
}

/**
 * Items are vectorized with a TF-IDF model fitted on the items themselves. Adding an
 * item marks the index stale; the model is refitted once, on the next search, since
 * idf depends on the whole collection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VectorIndex } from "@campaign-analytics/core";
 *
 * const index = new VectorIndex<{ platform: string }>()
 *   .add("c1", "Spring Promo 2024", { platform: "meta" })
 *   .add("c2", "Black Friday Blitz", { platform: "tiktok" });
 * const [best] = index.searchSync("black friday", 1);
 * assert.equal(best.id, "c2");
 * assert.equal(best.payload.platform, "tiktok");
 * ```
 */
export class VectorIndex<T = undefined> implements VectorSearch<T> {
  readonly #model: TfidfModel;
  readonly #items = new Map<string, StoredItem<T>>();
  #stale = false;

  /**
   * An empty index.
   *
   * @param options Tokenizer settings of the TF-IDF model fitted on the items.
   */
  constructor(options: TfidfOptions = {}) {
    this.#model = new TfidfModel(options);
  }

  /** Adds an item, replacing any earlier item with the same id. */
  add(id: string, text: string, payload: T): this {
    this.#items.set(id, { id, text, payload, vector: { indices: [], values: [] } });
    this.#stale = true;
    return this;
  }

  /**
   * Adds every item (see `add`).
   *
   * @returns This index, for chaining.
   */
  addAll(items: Iterable<IndexItem<T>>): this {
    for (const item of items) this.add(item.id, item.text, item.payload);
    return this;
  }

  /** Number of items in the index. */
  get size(): number {
    return this.#items.size;
  }

  /**
   * The k items most similar to `query`, best first; items with score 0 (nothing in
   * common) are left out. Ties keep insertion order, so results are deterministic.
   */
  searchSync(query: string, k: number): Match<T>[] {
    if (k <= 0 || this.#items.size === 0) return [];
    this.#refreshIfStale();
    const queryVector = this.#model.transform(query);
    const scored: Match<T>[] = [];
    for (const item of this.#items.values()) {
      const score = cosineSimilarity(queryVector, item.vector);
      if (score > 0) scored.push({ id: item.id, score, payload: item.payload });
    }
    // Array.prototype.sort is stable, so equal scores stay in insertion order.
    return scored.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /** `searchSync`, as a promise (the `VectorSearch` contract). */
  search(query: string, k: number): Promise<Match<T>[]> {
    return Promise.resolve(this.searchSync(query, k));
  }

  #refreshIfStale(): void {
    if (!this.#stale) return;
    const items = [...this.#items.values()];
    this.#model.fit(items.map((item) => item.text));
    for (const item of items) item.vector = this.#model.transform(item.text);
    this.#stale = false;
  }
}
