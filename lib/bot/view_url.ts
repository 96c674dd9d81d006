/**
 * The dashboard selection that shows the numbers of an answer: a link the reply carries
 * as `view_url`. The dashboard at `/` reads its selection from the URL fragment
 * (docs/bot.md, "Answers link to the dashboard"):
 *
 *   /#from=YYYY-MM-DD&to=YYYY-MM-DD&platform=meta,google&campaign=ID&metric=roas
 *     [&compare_from=…&compare_to=…][&group=platform|campaign|day|week|month][&currency=EUR]
 */
import type { Outcome, Period } from "./outcome.ts";
import type { ParsedQuery } from "./query.ts";

/** The dashboard's path on the API's origin. */
export const DASHBOARD_PATH = "/";

/** The link, or null when the answer shows no numbers (a definition, an unknown question, an error). */
export function viewUrl(query: ParsedQuery, outcome: Outcome): string | null {
  const selection = new URLSearchParams();
  const period = periodOf(outcome);
  const from = period?.from ?? query.date_range?.from;
  const to = period?.to ?? query.date_range?.to;
  if (from) selection.set("from", from);
  if (to) selection.set("to", to);
  const platforms = "platforms" in outcome
    ? outcome.platforms
    : "subject" in outcome
    ? outcome.subject.platforms
    : query.platforms;
  if (platforms.length > 0) selection.set("platform", platforms.join(","));
  if ("subject" in outcome && outcome.subject.type === "campaign") {
    selection.set("campaign", outcome.subject.campaign_id);
  }
  const metrics = "metric" in outcome ? [outcome.metric] : query.metrics;
  if (metrics.length > 0) selection.set("metric", metrics.join(","));
  if (outcome.kind === "compare_periods") {
    if (outcome.previous_period.from) selection.set("compare_from", outcome.previous_period.from);
    if (outcome.previous_period.to) selection.set("compare_to", outcome.previous_period.to);
  }
  const group = outcome.kind === "trend"
    ? outcome.granularity
    : outcome.kind === "rank"
    ? outcome.group_by
    : outcome.kind === "compare_platforms"
    ? "platform"
    : null;
  if (group) selection.set("group", group);
  if (query.currency) selection.set("currency", query.currency);
  if (!SHOWS_NUMBERS.has(outcome.kind)) return null;
  // Commas stay readable: they separate values inside one key.
  return `${DASHBOARD_PATH}#${selection.toString().replaceAll("%2C", ",")}`;
}

const SHOWS_NUMBERS: ReadonlySet<Outcome["kind"]> = new Set([
  "metric",
  "trend",
  "compare_platforms",
  "compare_periods",
  "rank",
  "list_campaigns",
]);

function periodOf(outcome: Outcome): Period | null {
  return "period" in outcome ? outcome.period : null;
}
