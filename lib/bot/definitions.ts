/**
 * Definition answers ("what is ROAS?"): built from the KPI module's own facts (formula,
 * when a KPI is null, its direction), so the bot explains exactly what the API computes.
 * No data is read.
 */
import { type MeasureFacts, measureFacts, type MeasureSums } from "../kpi.ts";
import type { MetricName } from "../schema.ts";
import { apiMetric, BOT_METRICS, type BotMetric } from "./query.ts";

export interface Definition extends MeasureFacts {
  /** The bot's name for the measure ("spend" for the API's "cost"). */
  readonly metric: BotMetric;
}

export function definitionsOf(metrics: readonly BotMetric[]): Definition[] {
  return metrics.map((metric) => ({ ...measureFacts(apiMetric(metric)), metric }));
}

/** The bot's word for a summed measure in a formula. */
function term(measure: keyof MeasureSums): string {
  return measure === "cost" ? "spend" : measure;
}

const PERCENTAGES: ReadonlySet<MetricName> = new Set(["ctr", "cvr"]);

export function describeDefinition(definition: Definition): string {
  const { name, meaning, ratio, nullWhenZero, higherIsBetter } = definition;
  const sentences = [`${capitalize(name)}: ${meaning}.`];
  if (ratio) {
    const scale = ratio.scale === 1 ? "" : ` × ${ratio.scale.toLocaleString("en-US")}`;
    const shown = PERCENTAGES.has(definition.measure) ? ", shown as a percentage" : "";
    sentences.push(
      `It is computed from totals: ${term(ratio.numerator)} ÷ ${term(ratio.denominator)}${scale}` +
        `${shown} (a ratio of sums, never an average of daily ratios).`,
    );
  } else {
    sentences.push("It is a total: the sum over the days, campaigns and platforms asked about.");
  }
  if (nullWhenZero) {
    sentences.push(
      `With no ${term(nullWhenZero)} it has no value: the answer says "n/a" rather than 0.`,
    );
  }
  sentences.push(higherIsBetter ? "Higher is better." : "Lower is better.");
  return sentences.join(" ");
}

/** The reply to a definition question. */
export function definitionsReply(definitions: readonly Definition[]): string {
  if (definitions.length === 0) {
    return "Which metric should I explain? I can explain " +
      BOT_METRICS.map((metric) => metric.toUpperCase()).join(", ") + ".";
  }
  return definitions.map(describeDefinition).join("\n\n");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
