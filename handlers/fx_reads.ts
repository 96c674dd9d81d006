/**
 * The read side of reporting currencies: which currency a request reports in
 * (`currency=`, else the deployment's REPORTING_CURRENCY, else none; `currency=native`
 * means none even with REPORTING_CURRENCY), and the store
 * reads the insights handlers make, answered either as stored (money per currency) or
 * converted into that currency at each day's rate (lib/fx/queries.ts).
 */
import type { FxInfo } from "../lib/fx/convert.ts";
import { ConvertedQueries } from "../lib/fx/queries.ts";
import type { CampaignSummary, MetricsStore } from "../lib/store/metrics_store.ts";
import type { AppDeps } from "./context.ts";
import { BadRequest, NATIVE_CURRENCY } from "./params.ts";

/** The reads the insights handlers need, in stored or in converted form. */
export type InsightsReader = Pick<MetricsStore, "totals" | "series" | "rank">;

export interface Reading {
  reader: InsightsReader;
  /** The reporting currency; undefined = money stays in its own currencies. */
  target?: string;
  /** What the conversions used (undefined without a target). */
  fx(): FxInfo | undefined;
  /** Campaign summaries with lifetime totals in the target currency (as stored without one). */
  lifetimes(tenantId: string, campaigns: CampaignSummary[]): Promise<CampaignSummary[]>;
}

export function readingFor(
  deps: AppDeps,
  requested: string | undefined,
  timeZone: string,
): Reading {
  // "native" opts out of conversion, REPORTING_CURRENCY included.
  const target = requested === NATIVE_CURRENCY ? undefined : requested ?? deps.reportingCurrency;
  if (!target) {
    return {
      reader: deps.store,
      fx: () => undefined,
      lifetimes: (_tenant, campaigns) => Promise.resolve(campaigns),
    };
  }
  if (!deps.fx) {
    throw new BadRequest("currency", "currency conversion is not available in this deployment");
  }
  const converted = new ConvertedQueries(deps.fx, target, timeZone);
  return {
    target,
    reader: {
      totals: (selection) => converted.totals(selection),
      series: (selection, granularity) => {
        // Conversion works on per-day sums (one rate a day): an hour bucket has no sums of
        // its own there, so it is refused rather than answered from the wrong grain.
        if (granularity === "hour") {
          throw new BadRequest(
            "granularity",
            "hourly buckets are not available with currency conversion: use day, week or month",
          );
        }
        return converted.series(selection, granularity);
      },
      rank: (selection, options) => converted.rank(selection, options),
    },
    fx: () => converted.info(),
    lifetimes: (tenant, campaigns) => converted.lifetimes(tenant, campaigns),
  };
}
