/**
 * The prompt text as the extraction rules see it: each rule blanks out the words it
 * used, so that later rules cannot read the same words twice.
 */

/** Stands in for consumed text; not a word character, so `\b` still works around it. */
export const MASK = "\u2022";

/** Holds the prepared text and blanks out the parts that rules have consumed. */
export class MaskedText {
  #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  get value(): string {
    return this.#value;
  }

  mask(start: number, end: number): void {
    this.#value = this.#value.slice(0, start) + MASK.repeat(end - start) + this.#value.slice(end);
  }

  /** Runs `pattern` (global) and masks every match for which `onMatch` returns true. */
  scan(pattern: RegExp, onMatch: (match: RegExpExecArray) => boolean): void {
    for (const match of [...this.#value.matchAll(pattern)]) {
      if (onMatch(match)) this.mask(match.index, match.index + match[0].length);
    }
  }
}
