/** Typo correction: optimal string alignment distance towards the domain vocabulary. */
import {
  CORRECTION_GUARDS,
  CORRECTION_TARGETS,
  METRIC_ALIASES,
  PLATFORM_PHRASES,
} from "../vocabulary.ts";

// Typo correction (optimal string alignment distance towards the domain vocabulary)

/** Words that are right as typed: every alias word, every target, every guard. */
const KNOWN_WORDS: ReadonlySet<string> = new Set([
  ...CORRECTION_TARGETS,
  ...CORRECTION_GUARDS,
  ...Object.values(METRIC_ALIASES).flat().flatMap((phrase) => phrase.split(" ")),
  ...Object.keys(PLATFORM_PHRASES).flatMap((phrase) => phrase.split(" ")),
]);

/** Memo of corrections: the same answer every time, computed once per distinct word. */
const correctionCache = new Map<string, string>();

/**
 * Corrects one misspelled word: five letters or more, same first letter, at most one
 * edit (two for targets of nine letters or more). Short words are left alone because
 * they sit too close to ordinary English ("cost"/"most", "meta"/"metal").
 */
export function correctTypo(token: string): string {
  if (token.length < 5 || !/^[a-z]+$/.test(token) || KNOWN_WORDS.has(token)) return token;
  const cached = correctionCache.get(token);
  if (cached !== undefined) return cached;
  let best = token;
  let bestDistance = Infinity;
  for (const target of CORRECTION_TARGETS) {
    if (target[0] !== token[0]) continue;
    const allowed = target.length >= 9 ? 2 : 1;
    if (Math.abs(target.length - token.length) > allowed) continue;
    const distance = editDistance(token, target, allowed);
    if (distance <= allowed && distance < bestDistance) {
      best = target;
      bestDistance = distance;
    }
  }
  if (correctionCache.size < 10_000) correctionCache.set(token, best);
  return best;
}

/** Optimal string alignment distance (transpositions count once); stops early past `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  let previousPrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, previousPrevious[j - 2] + 1);
      }
      current.push(value);
      rowMinimum = Math.min(rowMinimum, value);
    }
    if (rowMinimum > limit) return rowMinimum;
    previousPrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
