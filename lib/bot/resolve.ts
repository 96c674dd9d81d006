/**
 * Resolves a campaign name said in a prompt ("spring promo") against a tenant's
 * catalog of campaigns, tolerating typos and partial names.
 *
 * Similarity is the cosine of TF-IDF vectors over words plus character 3-grams
 * (embeddings.ts), fitted on the catalog's names so that words every campaign shares
 * ("2024", "campaign") weigh less than the distinctive ones.
 */
import { z } from "zod";
import { PlatformSchema } from "../schema.ts";
import { normalizeText } from "./embeddings.ts";
import { type Match, VectorIndex, type VectorSearch } from "./vector_search.ts";

export const CatalogEntrySchema = z.object({
  campaign_id: z.string().min(1),
  name: z.string(),
  platform: PlatformSchema,
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

export interface ScoredCampaign<T extends CatalogEntry = CatalogEntry> {
  readonly campaign: T;
  readonly score: number;
}

export type Resolution<T extends CatalogEntry = CatalogEntry> =
  | { readonly kind: "match"; readonly campaign: T; readonly score: number }
  | { readonly kind: "ambiguous"; readonly candidates: readonly ScoredCampaign<T>[] }
  | { readonly kind: "none" };

export interface ResolveOptions {
  /** Only consider campaigns on this platform (the prompt named one). */
  readonly platform?: CatalogEntry["platform"];
  /** Minimum cosine for a candidate to count at all. */
  readonly minScore?: number;
  /** A runner-up scoring at least this fraction of the best makes the answer ambiguous. */
  readonly closeRatio?: number;
  /** At most this many candidates in an ambiguous answer. */
  readonly maxCandidates?: number;
}

/**
 * Thresholds, chosen on the cases in tests/bot/resolve_test.ts:
 * - MIN_SCORE 0.3: a partial name ("spring promo" for "Spring Promo 2024 –
 *   Retargeting") scores about 0.7, a one-letter typo of it ("sprng promo") about
 *   0.45, two typos ("blck fridy") about 0.33, while a word that only shares a few
 *   3-grams with a name ("holiday" vs "Black Friday Blitz") stays near 0.2.
 * - CLOSE_RATIO 0.8: campaigns that differ only in words the prompt did not say
 *   ("spring promo" vs "… – Retargeting" / "… – Prospecting", or "retargeting" in two
 *   names) score within 5–20 % of each other, while a real best match leads the
 *   runner-up by 40 % or more. A ratio rather than a fixed gap, because typos lower
 *   every score and squeeze the gaps with them.
 */
export const MIN_SCORE = 0.3;
export const CLOSE_RATIO = 0.8;

/** Words that say "a campaign" rather than which one. */
const FILLER_WORDS = new Set(["the", "my", "our", "campaign", "campaigns", "ad", "ads"]);

/** A catalog indexed once, for resolving many names against it. */
export class CampaignResolver<T extends CatalogEntry = CatalogEntry> {
  readonly #catalog: readonly T[];
  readonly #index = new VectorIndex<T>();

  /** Indexes `catalog` by name (TF-IDF over words and character 3-grams). */
  constructor(catalog: readonly T[]) {
    this.#catalog = catalog;
    catalog.forEach((campaign, position) =>
      this.#index.add(`${position}`, campaign.name, campaign)
    );
  }

  /**
   * Resolves `name`: an exact or prefix match first, else the most similar names
   * (several when they are close, none below the minimum score).
   */
  resolve(name: string, options: ResolveOptions = {}): Resolution<T> {
    const step = exactStep(name, this.#catalog, options);
    if ("resolution" in step) return step.resolution;
    return similarityStep(this.#index.searchSync(step.query, this.#catalog.length), options);
  }
}

/**
 * Resolves a name with any `VectorSearch` over the catalog (in memory, pgvector): the
 * same rules as `CampaignResolver`.
 */
export async function resolveWithSearch<T extends CatalogEntry>(
  name: string,
  catalog: readonly T[],
  search: VectorSearch<T>,
  options: ResolveOptions = {},
): Promise<Resolution<T>> {
  const step = exactStep(name, catalog, options);
  if ("resolution" in step) return step.resolution;
  return similarityStep(await search.search(step.query, catalog.length), options);
}

/**
 * The first step: an exact name or id needs no similarity (several exact hits are
 * ambiguous); otherwise, the words to search for.
 */
function exactStep<T extends CatalogEntry>(
  name: string,
  catalog: readonly T[],
  { platform }: ResolveOptions,
): { resolution: Resolution<T> } | { query: string } {
  const wanted = comparableName(name);
  if (wanted.length === 0) return { resolution: { kind: "none" } };
  const exact = catalog.filter((campaign) =>
    (platform === undefined || campaign.platform === platform) &&
    (comparableName(campaign.name) === wanted || campaign.campaign_id.toLowerCase() === wanted)
  );
  if (exact.length === 1) return { resolution: { kind: "match", campaign: exact[0], score: 1 } };
  if (exact.length > 1) {
    const candidates = exact.map((campaign) => ({ campaign, score: 1 }));
    return { resolution: { kind: "ambiguous", candidates } };
  }
  return {
    query: wanted.split(" ").filter((word) => !FILLER_WORDS.has(word)).join(" ") || wanted,
  };
}

/** The second step: the nearest names above MIN_SCORE; a close runner-up makes it ambiguous. */
function similarityStep<T extends CatalogEntry>(
  matches: readonly Match<T>[],
  options: ResolveOptions,
): Resolution<T> {
  const { platform, minScore = MIN_SCORE, closeRatio = CLOSE_RATIO, maxCandidates = 5 } = options;
  const scored = matches
    .filter((match) => (platform === undefined || match.payload.platform === platform))
    .filter((match) => match.score >= minScore)
    .map((match) => ({ campaign: match.payload, score: match.score }));
  if (scored.length === 0) return { kind: "none" };
  const [best] = scored;
  const close = scored.filter((candidate) => candidate.score >= best.score * closeRatio);
  if (close.length === 1) return { kind: "match", campaign: best.campaign, score: best.score };
  return { kind: "ambiguous", candidates: close.slice(0, maxCandidates) };
}

/** One-off resolution; build a `CampaignResolver` to resolve many names against one catalog. */
export function resolveCampaignName<T extends CatalogEntry>(
  name: string,
  catalog: readonly T[],
  options: ResolveOptions = {},
): Resolution<T> {
  return new CampaignResolver(catalog).resolve(name, options);
}

/** Lower case, no accents, punctuation and dashes as spaces. */
function comparableName(name: string): string {
  return normalizeText(name).replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}
