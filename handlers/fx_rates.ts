/**
 * Exchange rates over HTTP: `POST /fx-rates` (scope metrics:write) stores a JSON array
 * of rates or an ECB-layout CSV (Content-Type text/csv), answering like the row push:
 * `{accepted, rejected: [{index, field, error}]}` (for CSV, index = line number).
 * `GET /fx-rates?base&quote&from&to` lists what is stored. A write bumps the tenant's
 * data version, so cached converted answers are recomputed with the new rates.
 */
import type { Hono } from "hono";
import { z } from "zod";
import {
  FxDaySchema,
  FxRateInputSchema,
  parseEcbCsv,
  StoredFxRateSchema,
  validateRates,
} from "../lib/fx/rates.ts";
import { CurrencySchema, RowRejectionSchema } from "../lib/schema.ts";
import type { FxStore } from "../lib/store/fx_store.ts";
import { requireScope } from "./auth.ts";
import type { AppEnv } from "./context.ts";
import type { AppExtension } from "./app_factory.ts";
import { BadRequest, parseQuery } from "./params.ts";
import type { Operation } from "./openapi.ts";

export interface FxRatesHttpDeps {
  fx: FxStore;
  /** Makes the tenant's cached answers unreachable after a committed write. */
  invalidate: (tenantId: string) => Promise<void>;
}

export const FxRatesQuery = z.object({
  base: CurrencySchema.optional(),
  quote: CurrencySchema.optional(),
  from: FxDaySchema.optional(),
  to: FxDaySchema.optional(),
  limit: z.coerce.number({ error: "expected an integer" }).int("expected an integer")
    .min(1, "must be at least 1").max(10_000, "must be at most 10000").default(1000),
});

export const FxRatesPushResponse = z.object({
  accepted: z.number().int(),
  rejected: z.array(RowRejectionSchema),
});

export const FxRatesResponse = z.object({ rates: z.array(StoredFxRateSchema) });

const CSV_TYPES = ["text/csv", "application/csv"];

export function fxRatesHttp(deps: FxRatesHttpDeps): AppExtension {
  return {
    register(app: Hono<AppEnv>) {
      app.post("/fx-rates", requireScope<AppEnv>("metrics:write"), async (c) => {
        const tenant = c.get("principal").tenant;
        const contentType = (c.req.header("Content-Type") ?? "").toLowerCase();
        const text = await c.req.text();
        const csv = CSV_TYPES.some((type) => contentType.includes(type));
        const parsed = csv ? parseEcbCsv(text) : validateRates(jsonItems(text));
        if (csv && parsed.rates.length === 0 && parsed.rejected.length === 0) {
          throw new BadRequest("body", "no rates in the CSV");
        }
        const accepted = await deps.fx.upsertRates(tenant, parsed.rates, csv ? "csv" : "api");
        if (accepted > 0) await deps.invalidate(tenant);
        return c.json({ accepted, rejected: parsed.rejected });
      });

      app.get("/fx-rates", requireScope<AppEnv>("insights:read"), async (c) => {
        const query = parseQuery(c, FxRatesQuery);
        if (query.from && query.to && query.from > query.to) {
          throw new BadRequest("from", "from must not be after to");
        }
        const rates = await deps.fx.listRates(c.get("principal").tenant, query);
        return c.json({ rates });
      });
    },
    operations: FX_OPERATIONS,
  };
}

function jsonItems(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest(
      "body",
      "body is not valid JSON (send an array of rates, or CSV with Content-Type: text/csv)",
    );
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw new BadRequest("body", "no rates in the body");
    return parsed;
  }
  if (parsed && typeof parsed === "object") return [parsed];
  throw new BadRequest("body", "expected a JSON array of rates");
}

const FX_OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/fx-rates",
    summary: "Store exchange rates (a new value for the same day and pair replaces the old one)",
    tags: ["currency"],
    body: [
      { contentType: "application/json", schema: z.array(FxRateInputSchema) },
      {
        contentType: "text/csv",
        schema: z.string(),
        description: "ECB euro reference-rate layout: Date, then one column per currency " +
          "(units per euro), N/A for missing values",
      },
    ],
    response: FxRatesPushResponse,
    scope: "metrics:write",
    statuses: [400, 413, 503],
  },
  {
    method: "get",
    path: "/fx-rates",
    summary: "The stored exchange rates, by day",
    tags: ["currency"],
    query: FxRatesQuery,
    response: FxRatesResponse,
    scope: "insights:read",
    statuses: [400],
  },
];
