/** Platforms named in a prompt, by their names and aliases ("FB", "AdWords", "Tik Tok"). */
import type { Platform } from "../../schema.ts";
import { PLATFORM_PHRASES } from "../vocabulary.ts";
import type { MaskedText } from "./masked_text.ts";
import { alternation } from "./text.ts";

const PLATFORM_PATTERN = new RegExp(`\\b(${alternation(Object.keys(PLATFORM_PHRASES))})\\b`, "g");
export const PLATFORM_WORDS = new Set(
  Object.keys(PLATFORM_PHRASES).flatMap((phrase) => phrase.split(" ")),
);

export function extractPlatforms(text: MaskedText): Platform[] {
  const found: Platform[] = [];
  text.scan(PLATFORM_PATTERN, (match) => {
    const platform = PLATFORM_PHRASES[match[1]];
    if (!found.includes(platform)) found.push(platform);
    return true;
  });
  return found;
}
