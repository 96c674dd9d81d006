/**
 * TF-IDF embeddings over word tokens plus character n-grams.
 *
 * Why n-grams: a typo changes one word token completely but only a few of its
 * character 3-grams, so "sprng promo" still lands near "Spring Promo". Why TF-IDF
 * and not a neural model: it is deterministic, needs no weights or network, and is
 * plenty for short texts such as campaign names and example phrasings.
 */

/** How `tokenize` splits text into terms. */
export interface TokenizerOptions {
  /** Length of character n-grams; 0 turns them off. Default 3. */
  readonly ngramSize?: number;
  /** Whether whole words are tokens too. Default true. */
  readonly words?: boolean;
}

/** A sparse vector: `indices` strictly increasing, `values` aligned with them. */
export interface SparseVector {
  /** Term indices, strictly increasing. */
  readonly indices: readonly number[];
  /** The weight of each term in `indices`, aligned with it. */
  readonly values: readonly number[];
}

/** Marks n-gram tokens so that the 3-gram "per" never collides with the word "per". */
const NGRAM_PREFIX = "#";

/** Lower-cases and strips diacritics so "Promoción" and "promocion" meet. */
export function normalizeText(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** Words: runs of letters and digits, lower-cased. */
export function wordTokens(text: string): string[] {
  return normalizeText(text).split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
}

/**
 * Character n-grams of one word padded with boundary marks: "promo" →
 * "<pr", "pro", "rom", "omo", "mo>". The padding lets word starts and ends weigh in.
 */
export function charNgrams(word: string, size = 3): string[] {
  const padded = `<${word}>`;
  if (padded.length <= size) return [padded];
  const grams: string[] = [];
  for (let start = 0; start + size <= padded.length; start++) {
    grams.push(padded.slice(start, start + size));
  }
  return grams;
}

/**
 * Word tokens followed by the (prefixed) character n-grams of every word.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenize } from "@campaign-analytics/core";
 *
 * assert.deepEqual(tokenize("Big Sale", { ngramSize: 0 }), ["big", "sale"]);
 * assert.ok(tokenize("Promoción").includes("promocion")); // diacritics folded
 * ```
 */
export function tokenize(text: string, options: TokenizerOptions = {}): string[] {
  const { ngramSize = 3, words: includeWords = true } = options;
  const words = wordTokens(text);
  const tokens = includeWords ? [...words] : [];
  if (ngramSize > 0) {
    for (const word of words) {
      for (const gram of charNgrams(word, ngramSize)) tokens.push(NGRAM_PREFIX + gram);
    }
  }
  return tokens;
}

/** Tokenizer settings and term-frequency scaling of a `TfidfModel`. */
export interface TfidfOptions extends TokenizerOptions {
  /** Use 1 + ln(tf) instead of raw counts, so a repeated token does not dominate. Default true. */
  readonly sublinearTf?: boolean;
}

/**
 * A TF-IDF vectorizer. `fit` learns the vocabulary and the smoothed inverse document
 * frequency idf(t) = ln((1 + N) / (1 + df(t))) + 1 (as scikit-learn does, so a term
 * present in every document still counts a little). `transform` returns an
 * L2-normalized sparse vector.
 *
 * Terms never seen during `fit` are kept, with the idf of df = 0, at indices past the
 * vocabulary derived from a hash of the term. Why: dropping them would normalize a
 * query over the few terms it shares with the corpus and inflate its similarity
 * ("holiday" would look like "Friday" because of "ida", "day", "ay>"). The hash keeps
 * the same unseen term at the same index, so identical texts still score 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineSimilarity, TfidfModel } from "@campaign-analytics/core";
 *
 * const model = new TfidfModel().fit(["Spring Promo", "Summer Sale", "Brand Awareness"]);
 * const query = model.transform("sprng promo"); // a typo still lands near
 * const score = (name: string) => cosineSimilarity(query, model.transform(name));
 * assert.ok(score("Spring Promo") > score("Summer Sale"));
 * ```
 */
export class TfidfModel {
  readonly #options: TfidfOptions;
  #vocabulary = new Map<string, number>();
  #idf: number[] = [];
  #documentCount = 0;

  /**
   * A model with no vocabulary yet; call `fit` before `transform`.
   *
   * @param options Tokenizer settings and whether term frequency is sublinear.
   */
  constructor(options: TfidfOptions = {}) {
    this.#options = options;
  }

  /**
   * Learns the vocabulary and idf weights from `documents` (replacing any earlier fit).
   *
   * @param documents The corpus, e.g. campaign names.
   * @returns This model, for chaining.
   */
  fit(documents: readonly string[]): this {
    const documentFrequency = new Map<string, number>();
    for (const document of documents) {
      for (const term of new Set(this.tokenize(document))) {
        documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
      }
    }
    // Sorted terms give the same indices for the same corpus, whatever the insertion order.
    const terms = [...documentFrequency.keys()].sort();
    this.#vocabulary = new Map(terms.map((term, index) => [term, index]));
    this.#documentCount = documents.length;
    this.#idf = terms.map((term) =>
      Math.log((1 + documents.length) / (1 + documentFrequency.get(term)!)) + 1
    );
    return this;
  }

  /** Number of distinct terms learned by `fit`. */
  get size(): number {
    return this.#vocabulary.size;
  }

  /** Number of documents the model was fitted on. */
  get documentCount(): number {
    return this.#documentCount;
  }

  /** The idf of a term (as `tokenize` spells it), or undefined when it was never seen. */
  idf(term: string): number | undefined {
    const index = this.#vocabulary.get(term);
    return index === undefined ? undefined : this.#idf[index];
  }

  /** The terms of `text` under this model's tokenizer settings. */
  tokenize(text: string): string[] {
    return tokenize(text, this.#options);
  }

  /**
   * The L2-normalized TF-IDF vector of `text`; terms never seen get a hashed index
   * and the largest idf, so typos still count a little.
   */
  transform(text: string): SparseVector {
    const counts = new Map<number, number>();
    for (const term of this.tokenize(text)) {
      const index = this.#vocabulary.get(term) ?? this.size + hashTerm(term);
      counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    const indices = [...counts.keys()].sort((a, b) => a - b);
    const sublinear = this.#options.sublinearTf ?? true;
    const unseenIdf = Math.log(1 + this.#documentCount) + 1;
    const values = indices.map((index) => {
      const count = counts.get(index)!;
      return (sublinear ? 1 + Math.log(count) : count) * (this.#idf[index] ?? unseenIdf);
    });
    return normalizeVector({ indices, values });
  }

  /** Fits on `documents` and returns each document's vector. */
  fitTransform(documents: readonly string[]): SparseVector[] {
    this.fit(documents);
    return documents.map((document) => this.transform(document));
  }
}

/** FNV-1a, 31 bits: a stable index offset for terms outside the vocabulary. */
function hashTerm(term: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    hash ^= term.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & 0x7fffffff;
}

/** Scales a vector to unit length; the zero vector stays zero. */
export function normalizeVector(vector: SparseVector): SparseVector {
  const norm = vectorNorm(vector);
  if (norm === 0) return { indices: [...vector.indices], values: vector.values.map(() => 0) };
  return { indices: [...vector.indices], values: vector.values.map((value) => value / norm) };
}

/** Euclidean length; a loop rather than Math.hypot(...values) so long vectors cannot overflow the call stack. */
export function vectorNorm(vector: SparseVector): number {
  let sum = 0;
  for (const value of vector.values) sum += value * value;
  return Math.sqrt(sum);
}

/** Dot product of two sparse vectors by merging their sorted indices. */
export function dotProduct(a: SparseVector, b: SparseVector): number {
  let sum = 0;
  let i = 0;
  let j = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const left = a.indices[i];
    const right = b.indices[j];
    if (left === right) sum += a.values[i++] * b.values[j++];
    else if (left < right) i++;
    else j++;
  }
  return sum;
}

/**
 * Cosine similarity in [0, 1] for TF-IDF vectors; 0 when either vector is zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineSimilarity } from "@campaign-analytics/core";
 *
 * const a = { indices: [0, 2], values: [0.6, 0.8] };
 * assert.equal(cosineSimilarity(a, a), 1);
 * assert.equal(cosineSimilarity(a, { indices: [1], values: [1] }), 0);
 * ```
 */
export function cosineSimilarity(a: SparseVector, b: SparseVector): number {
  const norms = vectorNorm(a) * vectorNorm(b);
  if (norms === 0) return 0;
  // Clamp away float noise so identical texts score exactly 1.
  return Math.min(1, dotProduct(a, b) / norms);
}
