/**
 * The dashboard view that shows the numbers of an answer: a link the reply carries as
 * `view_url`. The dashboard at `/` (web/app.js) reads its selection from the URL
 * fragment: a route (`overview`, or `campaign/<id>`) and the filters it knows,
 *
 *   /#/overview?preset=custom&from=YYYY-MM-DD&to=YYYY-MM-DD&platform=meta&tz=UTC&currency=EUR
 *   /#/campaign/cmp-42?preset=custom&from=…&to=…
 *
 * It filters on one platform at a time, so a platform is linked only when the answer is
 * about exactly one.
 */
import type { Platform } from "../schema.ts";
import type { Outcome, Period } from "./outcome.ts";
import type { ParsedQuery } from "./query.ts";

/** The dashboard's path on the API's origin. */
export const DASHBOARD_PATH = "/";

/** The link, or null when the answer shows no numbers (a definition, an unknown question, an error). */
export function viewUrl(
  query: ParsedQuery,
  outcome: Outcome,
  options: { timeZone?: string } = {},
): string | null {
  if (!SHOWS_NUMBERS.has(outcome.kind)) return null;
  const selection = new URLSearchParams();
  const period = "period" in outcome ? outcome.period as Period | null : null;
  const from = period?.from ?? query.date_range?.from;
  const to = period?.to ?? query.date_range?.to;
  if (from && to) {
    selection.set("preset", "custom");
    selection.set("from", from);
    selection.set("to", to);
  }
  const platforms = platformsOf(query, outcome);
  if (platforms.length === 1) selection.set("platform", platforms[0]);
  if (options.timeZone) selection.set("tz", options.timeZone);
  if (query.currency) selection.set("currency", query.currency);
  const route = "subject" in outcome && outcome.subject.type === "campaign"
    ? `campaign/${encodeURIComponent(outcome.subject.campaign_id)}`
    : "overview";
  return `${DASHBOARD_PATH}#/${route}?${selection}`;
}

function platformsOf(query: ParsedQuery, outcome: Outcome): readonly Platform[] {
  if ("subject" in outcome) return outcome.subject.platforms;
  if ("platforms" in outcome) return outcome.platforms;
  return query.platforms;
}

const SHOWS_NUMBERS: ReadonlySet<Outcome["kind"]> = new Set([
  "metric",
  "trend",
  "compare_platforms",
  "compare_periods",
  "rank",
  "list_campaigns",
]);
