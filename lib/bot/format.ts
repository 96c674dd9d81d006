/**
 * Conversational replies from an `Outcome`. Every reply says which period and which
 * platforms it covers, and every number in it is read from the outcome (the API's
 * answers and the bot's few derived numbers), formatted but never invented:
 *
 * - money with its currency (Intl, the currency's minor unit digits), never summed
 *   across currencies: several currencies are reported side by side;
 * - CTR and conversion rate as percentages, ROAS with two decimals, counts grouped;
 * - trends as first, last, change and peak; rankings as a numbered list; comparisons
 *   side by side;
 * - no data, an unknown campaign, an ambiguous name, an unrelated question and an API
 *   failure each get an honest sentence saying what was looked for.
 */
import {
  type Candidate,
  metricValue,
  type Outcome,
  type OutcomeOf,
  type Period,
  type PeriodChange,
  type TrendSummary,
} from "./outcome.ts";
import type { InsightsGroup } from "./client.ts";
import { definitionsReply } from "./definitions.ts";
import { type BotMetric, isCountMetric, isMoneyMetric, lowerIsBetter } from "./query.ts";
import {
  campaignLabel,
  capitalize,
  changePhrase,
  CURRENCY_NOTE,
  Dates,
  formatMetric,
  isEmpty,
  list,
  METRIC_LABELS,
  NO_VALUE_BECAUSE,
  platformList,
  platformName,
  spansCurrencies,
  subjectEnd,
  subjectText,
  valuesOf,
  valuesText,
} from "./format_words.ts";

export { formatCount, formatMoney, formatPercent, formatRatio } from "./format_words.ts";

export interface FormatOptions {
  /** Decides when a date needs its year. Default: now. */
  now?: Date;
}

// ---------------------------------------------------------------------------------
// Replies per outcome
// ---------------------------------------------------------------------------------

function metricReply(outcome: OutcomeOf<"metric">, dates: Dates): string {
  const { subject, metrics, result } = outcome;
  const period = dates.period(outcome.period, subject.type === "campaign");
  const labels = list(metrics.map((metric) => METRIC_LABELS[metric]));
  if (isEmpty(result)) {
    const what = metrics.length > 3 ? "nothing" : `no ${labels}`;
    return `I found no activity for ${subjectEnd(subject)} ${period}, so I have ${what} to report.`;
  }
  const note = spansCurrencies(result, metrics) ? ` ${CURRENCY_NOTE}` : "";
  if (metrics.length === 1) {
    const [metric] = metrics;
    const values = valuesOf(result, metric);
    if (values.length === 1 && values[0].value === null) {
      return `There is no ${METRIC_LABELS[metric]} for ${subjectEnd(subject)} ${period}: ` +
        `there was ${NO_VALUE_BECAUSE[metric] ?? "no data"}.`;
    }
    const value = valuesText(metric, values);
    const sentence = metric === "spend"
      ? `You spent ${value} on ${subjectEnd(subject)} ${period}.`
      : metric === "revenue"
      ? `${capitalize(subjectText(subject))} brought in ${value} in revenue ${period}.`
      : isCountMetric(metric)
      ? `${capitalize(subjectText(subject))} got ${value} ${METRIC_LABELS[metric]} ${period}.`
      : `The ${METRIC_LABELS[metric]} for ${subjectText(subject)} is ${value} ${period}.`;
    return sentence + note;
  }
  const lines = metrics.map((metric) =>
    `• ${capitalize(METRIC_LABELS[metric])}: ${valuesText(metric, valuesOf(result, metric))}`
  );
  return `Here is how ${subjectText(subject)} did ${period}:\n${lines.join("\n")}${
    note ? `\n${CURRENCY_NOTE}` : ""
  }`;
}

function trendLine(
  summary: TrendSummary,
  granularity: "day" | "week" | "month",
  dates: Dates,
  multiCurrency: boolean,
): string {
  const { metric, currency, first, last, peak } = summary;
  const label = capitalize(METRIC_LABELS[metric]) +
    (multiCurrency && currency ? ` (${currency})` : "");
  const value = (v: number) => formatMetric(metric, v, currency);
  const unit = granularity === "day" ? "day" : granularity;
  if (!first) {
    return `${label}: no values in this period (${NO_VALUE_BECAUSE[metric] ?? "no data"}).`;
  }
  if (!last) {
    return `${label}: only one ${unit} has data, ${value(first.value)} on ${
      dates.bucket(first.bucket, granularity)
    }.`;
  }
  const change = changePhrase(metric, summary.change, summary.change_pct, currency);
  const peakText = peak
    ? `; it peaked at ${value(peak.value)} on ${dates.bucket(peak.bucket, granularity)}`
    : "";
  return `${label} went from ${value(first.value)} on ${dates.bucket(first.bucket, granularity)} ` +
    `to ${value(last.value)} on ${dates.bucket(last.bucket, granularity)}, ${change}${peakText}.`;
}

const GRANULARITY_WORDS = { day: "daily", week: "weekly", month: "monthly" } as const;

function trendReply(outcome: OutcomeOf<"trend">, dates: Dates): string {
  const { subject, metrics, granularity, series, summaries } = outcome;
  const period = dates.period(outcome.period, subject.type === "campaign");
  const labels = list(metrics.map((metric) => METRIC_LABELS[metric]));
  if (series.every((set) => set.points.length === 0)) {
    return `I found no data for ${subjectEnd(subject)} ${period}, so there is no ` +
      `${GRANULARITY_WORDS[granularity]} ${labels} trend to show.`;
  }
  const multi = series.length > 1;
  const header = `${capitalize(GRANULARITY_WORDS[granularity])} ${labels} for ${
    subjectEnd(subject)
  } ${period}:`;
  const lines = summaries.map((summary) => `• ${trendLine(summary, granularity, dates, multi)}`);
  return `${header}\n${lines.join("\n")}${multi ? `\n${CURRENCY_NOTE}` : ""}`;
}

function groupCurrencyNote(groups: readonly InsightsGroup[], metrics: readonly BotMetric[]) {
  const currencies = new Set(groups.map((group) => group.currency));
  return currencies.size > 1 && metrics.some(isMoneyMetric);
}

function comparePlatformsReply(outcome: OutcomeOf<"compare_platforms">, dates: Dates): string {
  const { subject, metrics, result } = outcome;
  const period = dates.period(outcome.period, subject.type === "campaign");
  const groups = result.groups ?? [];
  const labels = list(metrics.map((metric) => METRIC_LABELS[metric]));
  if (groups.length === 0) {
    return `I found no data for ${subjectEnd(subject)} ${period}, so there is nothing to compare ` +
      `across platforms.`;
  }
  const platformsSeen = groups.map((group) => group.platform ?? "");
  const twice = new Set(platformsSeen.filter((p, i) => platformsSeen.indexOf(p) !== i));
  const lines = groups.map((group) => {
    const name = platformName(group.platform ?? "") +
      (twice.has(group.platform ?? "") && group.currency ? ` (${group.currency})` : "");
    const values = metrics.map((metric) => {
      const text = formatMetric(metric, metricValue(group, metric), group.currency);
      return metrics.length === 1 ? text : `${METRIC_LABELS[metric]} ${text}`;
    });
    return `• ${name}: ${values.join(", ")}`;
  });
  const asked = subject.type === "all" ? subject.platforms : [];
  for (const platform of asked) {
    if (!platformsSeen.includes(platform)) lines.push(`• ${platformName(platform)}: no data`);
  }
  const [lead] = metrics;
  const comparable = groups.filter((group) => metricValue(group, lead) !== null);
  const sameCurrency = !isMoneyMetric(lead) ||
    new Set(comparable.map((group) => group.currency)).size === 1;
  let verdict = "";
  if (comparable.length > 1 && sameCurrency) {
    const low = lowerIsBetter(lead);
    verdict = `\n${platformName(comparable[0].platform ?? "")} has the ${
      low ? "lowest" : "highest"
    } ${METRIC_LABELS[lead]}.`;
  }
  const note = groupCurrencyNote(groups, metrics)
    ? "\nEach platform's amounts are in its own currency; they are not converted or added up."
    : "";
  const scope = subject.type === "all" ? "" : ` for ${subjectEnd(subject)}`;
  return `${capitalize(labels)} by platform${scope} ${period}:\n${
    lines.join("\n")
  }${verdict}${note}`;
}

function comparePeriodsReply(outcome: OutcomeOf<"compare_periods">, dates: Dates): string {
  const { subject, changes } = outcome;
  const first = outcome.period;
  const second = outcome.previous_period;
  const range = (p: Period) => (p.from && p.to ? dates.range(p.from, p.to) : "all time");
  if (isEmpty(outcome.current) && isEmpty(outcome.previous)) {
    return `I found no data for ${subjectEnd(subject)} in either period (${range(first)} and ` +
      `${range(second)}), so there is nothing to compare.`;
  }
  const multi = new Set(changes.map((c) => c.currency).filter((c) => c !== null)).size > 1;
  const lines = changes.map((change: PeriodChange) => {
    const label = capitalize(METRIC_LABELS[change.metric]) +
      (multi && change.currency ? ` (${change.currency})` : "");
    const now = formatMetric(change.metric, change.current, change.currency);
    const before = formatMetric(change.metric, change.previous, change.currency);
    const moved = changePhrase(change.metric, change.change, change.change_pct, change.currency);
    return `• ${label}: ${now} vs ${before}${moved ? `, ${moved}` : ""}`;
  });
  return `${capitalize(subjectEnd(subject))}, ${range(first)} compared with ${range(second)}:\n${
    lines.join("\n")
  }${multi ? `\n${CURRENCY_NOTE}` : ""}`;
}

function rankLabel(group: InsightsGroup, byCampaign: boolean, showCurrency: boolean): string {
  if (byCampaign) {
    return campaignLabel(group.campaign_name, group.campaign_id ?? "?", group.platform);
  }
  const name = platformName(group.platform ?? "");
  return showCurrency && group.currency ? `${name} (${group.currency})` : name;
}

function rankReply(outcome: OutcomeOf<"rank">, dates: Dates): string {
  const { metric, order, sets } = outcome;
  const byCampaign = outcome.group_by === "campaign";
  const period = dates.period(outcome.period, false);
  const where = outcome.platforms.length ? ` on ${platformList(outcome.platforms)}` : "";
  const noun = byCampaign ? "campaign" : "platform";
  const extreme = order === "desc" ? "highest" : "lowest";
  const label = METRIC_LABELS[metric];
  if (sets.every((set) => set.groups.length === 0)) {
    return `I found no ${noun}s with data${where} ${period}, so there is nothing to rank by ${label}.`;
  }
  const multiSet = sets.length > 1;
  if (outcome.limit === 1 && !multiSet) {
    const [top] = sets[0].groups;
    const value = metricValue(top, metric);
    return `The ${noun}${where} with the ${extreme} ${label} ${period} is ` +
      `${rankLabel(top, byCampaign, false)}, at ${formatMetric(metric, value, top.currency)}.`;
  }
  const blocks = sets.map((set) => {
    const showCurrency = new Set(set.groups.map((g) => g.currency)).size > 1;
    const rows = set.groups.map((group, index) =>
      `${index + 1}. ${rankLabel(group, byCampaign, showCurrency)} — ${
        formatMetric(metric, metricValue(group, metric), group.currency)
      }`
    );
    const heading = multiSet ? `In ${set.currency}:\n` : "";
    return heading + (rows.length ? rows.join("\n") : "(none)");
  });
  return `${capitalize(noun)}s${where} with the ${extreme} ${label} ${period}:\n${
    blocks.join("\n")
  }${multiSet ? `\n${CURRENCY_NOTE}` : ""}`;
}

function listReply(outcome: OutcomeOf<"list_campaigns">, dates: Dates): string {
  const which = outcome.platforms.length ? `${platformList(outcome.platforms)} ` : "";
  const active = outcome.period?.from && outcome.period.to
    ? ` with activity from ${dates.day(outcome.period.from)} to ${dates.day(outcome.period.to)}`
    : "";
  if (outcome.campaigns.length === 0) {
    return `I found no ${which}campaigns${active} in your account.`;
  }
  const rows = outcome.campaigns.map((campaign, index) => {
    const details = [platformName(campaign.platform)];
    if (campaign.status) details.push(campaign.status.toLowerCase());
    if (campaign.started_at) details.push(`launched ${dates.day(campaign.started_at)}`);
    else if (campaign.first_seen) details.push(`first seen ${dates.day(campaign.first_seen)}`);
    return `${index + 1}. ${campaign.name ?? campaign.campaign_id} (${campaign.campaign_id}) — ${
      details.join(", ")
    }`;
  });
  const more = outcome.more
    ? "\nThere are more; ask about one by name, or narrow the question to a platform."
    : "";
  return `Your ${which}campaigns${active}, newest first:\n${rows.join("\n")}${more}`;
}

function ambiguousReply(outcome: OutcomeOf<"ambiguous">): string {
  const rows = outcome.candidates.map((candidate: Candidate) =>
    `• ${candidate.name} (${candidate.campaign_id}, ${platformName(candidate.platform)})`
  );
  return `Several campaigns could be "${outcome.said}". Which one did you mean?\n${
    rows.join("\n")
  }\nAsk again with its full name or its id.`;
}

function notFoundReply(outcome: OutcomeOf<"not_found">): string {
  const where = outcome.platforms.length ? ` on ${platformList(outcome.platforms)}` : "";
  if (outcome.ref === "latest") {
    return `I couldn't find any campaigns${where}, so there is no latest one to report on.`;
  }
  if (outcome.ref === "id") {
    return `I couldn't find a campaign with the id ${outcome.said} in your account.`;
  }
  return `I couldn't find a campaign called "${outcome.said}"${where}. ` +
    `Ask "list my campaigns" to see their names.`;
}

export const EXAMPLE_QUESTIONS: readonly string[] = [
  "What's the ROAS for my latest Google campaign?",
  "Show me CTR trends for last week's Meta campaigns.",
  "How much did I spend on LinkedIn ads this quarter?",
];

function unknownReply(): string {
  return "I answer questions about your ad performance: spend, revenue, ROAS, CTR, CPA, CPC, " +
    "CPM, conversions and conversion rate, for one campaign or all of them, on Meta, Google, " +
    "LinkedIn and TikTok. You could ask:\n" +
    EXAMPLE_QUESTIONS.map((question) => `• "${question}"`).join("\n");
}

function errorReply(outcome: OutcomeOf<"error">): string {
  switch (outcome.reason) {
    case "unauthorized":
    case "forbidden":
      return `Your token can't read insights (${outcome.message}). Check that it is valid ` +
        `and has the insights:read scope.`;
    case "timeout":
      return "The analytics API didn't answer in time, so I have no numbers for you. " +
        "Please try again in a moment.";
    case "unavailable":
      return `The analytics API is unavailable right now (${outcome.message}), so I have no ` +
        `numbers for you. Please try again in a moment.`;
    case "invalid_response":
      return `The analytics API sent an answer I couldn't read (${outcome.message}), so I ` +
        `won't guess at the numbers.`;
    case "not_found":
      return `The analytics API couldn't find that (${outcome.message}).`;
    default:
      return `The analytics API couldn't answer that question: ${outcome.message}.`;
  }
}

/** The reply for an outcome, with a note when its money was converted to another currency. */
export function formatReply(outcome: Outcome, options: FormatOptions = {}): string {
  const reply = replyFor(outcome, options);
  const note = conversionNote(outcome);
  return note ? `${reply}\n${note}` : reply;
}

/** "Amounts converted to USD at daily rates." when the API converted the money. */
function conversionNote(outcome: Outcome): string | null {
  if (!outcome.fx) return null;
  // Everything was already in the currency asked for: nothing to say.
  if (Array.isArray(outcome.fx.converted) && outcome.fx.converted.length === 0) return null;
  const target = outcome.fx.currency ?? outcome.fx.to;
  return typeof target === "string"
    ? `Amounts converted to ${target} at daily rates.`
    : "Amounts converted at daily rates.";
}

function replyFor(outcome: Outcome, options: FormatOptions): string {
  const dates = new Dates(options.now ?? new Date());
  switch (outcome.kind) {
    case "metric":
      return metricReply(outcome, dates);
    case "trend":
      return trendReply(outcome, dates);
    case "compare_platforms":
      return comparePlatformsReply(outcome, dates);
    case "compare_periods":
      return comparePeriodsReply(outcome, dates);
    case "rank":
      return rankReply(outcome, dates);
    case "list_campaigns":
      return listReply(outcome, dates);
    case "ambiguous":
      return ambiguousReply(outcome);
    case "not_found":
      return notFoundReply(outcome);
    case "explain":
      return definitionsReply(outcome.definitions);
    case "unknown":
      return unknownReply();
    case "error":
      return errorReply(outcome);
  }
}
