/**
 * The push body, bounded before anything parses it: which media types are rows, how
 * deep a body may nest, and that every row is a flat object of scalars. A body that
 * breaks these rules is refused as a whole (400 naming the row and field); only rows
 * of the right shape go on to per-row validation.
 */
import { isRecord } from "../lib/schema.ts";
import { BadRequest } from "./params.ts";

export const JSON_TYPE = "application/json";

export const NDJSON_TYPES = [
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/json-seq",
] as const;

/**
 * Nesting a body may have: an array of rows (1), each an object (2). One level more
 * is parsed only to name the offending field precisely; anything deeper is refused by
 * a scan of the text, so no parser ever recurses into hostile input.
 */
const MAX_JSON_DEPTH = 3;

export type PushFormat = "json" | "ndjson";

/** The body format for a Content-Type header; undefined for anything else (415). */
export function pushFormat(contentType: string | undefined): PushFormat | undefined {
  const essence = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (essence === JSON_TYPE) return "json";
  return (NDJSON_TYPES as readonly string[]).includes(essence) ? "ndjson" : undefined;
}

/**
 * The deepest nesting of `text` (brackets outside strings), stopping as soon as it
 * passes `limit`; also which top-level element (comma-separated at depth 1) that was.
 */
export function nestingBeyond(text: string, limit: number): { element: number } | undefined {
  let depth = 0;
  let element = 0;
  let inString = false;
  // Commas at depth 1 separate rows only in an array; in a single-object body they
  // separate that row's fields.
  const rowsAtDepthOne = text.trimStart().startsWith("[");
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return { element };
    } else if (code === 0x5d || code === 0x7d) depth--;
    else if (code === 0x2c && depth === 1 && rowsAtDepthOne) element++;
  }
  return undefined;
}

/** Refuses a row that is not a flat object of scalars, naming the row and field. */
function requireFlatRow(row: unknown, index: number): void {
  if (!isRecord(row)) {
    throw new BadRequest(`body[${index}]`, `row ${index}: expected a JSON object`);
  }
  for (const [key, value] of Object.entries(row)) {
    if (value !== null && typeof value === "object") {
      const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      throw new BadRequest(
        `body[${index}].${name}`,
        `row ${index}: "${name}" must be a string, number, boolean or null`,
      );
    }
  }
}

/**
 * Rows from a JSON array (or one object) or NDJSON. An NDJSON line that is not JSON at
 * all is one rejected row (`lineErrors`), as before; shape problems refuse the body.
 */
export function parsePushBody(text: string, format: PushFormat): {
  rows: unknown[];
  lineErrors: { index: number; error: string }[];
} {
  if (format === "json") {
    const deep = nestingBeyond(text, MAX_JSON_DEPTH);
    if (deep) {
      throw new BadRequest(
        `body[${deep.element}]`,
        `row ${deep.element} is nested deeper than rows allow (values must be scalars)`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new BadRequest(
        "body",
        "body is not valid JSON (send an array of rows, or NDJSON with Content-Type: application/x-ndjson)",
      );
    }
    const rows = Array.isArray(parsed) ? parsed : isRecord(parsed) ? [parsed] : undefined;
    if (!rows) throw new BadRequest("body", "expected a JSON array of rows");
    rows.forEach(requireFlatRow);
    return { rows, lineErrors: [] };
  }
  const rows: unknown[] = [];
  const lineErrors: { index: number; error: string }[] = [];
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const index = rows.length;
    if (nestingBeyond(line, MAX_JSON_DEPTH - 1)) {
      throw new BadRequest(`body[${index}]`, `row ${index} is nested deeper than rows allow`);
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      lineErrors.push({ index, error: "line is not valid JSON" });
      rows.push(undefined);
      continue;
    }
    requireFlatRow(row, index);
    rows.push(row);
  }
  return { rows, lineErrors };
}
