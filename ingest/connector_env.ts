/**
 * Schemas shared by the connectors' environment configuration (account id lists,
 * base URLs, secrets). Parsing and errors are lib/config.ts's `parseEnv` and
 * `ConfigError`, which name every missing or invalid variable and never a value.
 */
import { z } from "zod";

/**
 * A comma-separated list of account ids, each normalized by `normalize` (which returns
 * undefined for an id it cannot read). At least one id is required.
 */
export function accountIdList(normalize: (raw: string) => string | undefined, example: string) {
  return z.string().transform((text, ctx) => {
    const ids: string[] = [];
    for (const raw of text.split(",").map((part) => part.trim()).filter(Boolean)) {
      const id = normalize(raw);
      if (id === undefined) {
        ctx.addIssue({ code: "custom", message: `each id must look like ${example}` });
        return z.NEVER;
      }
      if (!ids.includes(id)) ids.push(id);
    }
    if (ids.length === 0) {
      ctx.addIssue({ code: "custom", message: "no account id given" });
      return z.NEVER;
    }
    return ids;
  });
}

/** An http(s) base URL without a trailing slash. */
export const BaseUrlSchema = z.string().trim().refine((text) => {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}, "expected an http(s) URL").transform((text) => text.replace(/\/+$/, ""));

/** A required secret: any non-blank text, trimmed. */
export const SecretSchema = z.string().trim().min(1);
