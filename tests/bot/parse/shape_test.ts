import assert from "node:assert/strict";
import { readSignals } from "../../../lib/bot/parse/parse.ts";
import { assembleQuery } from "../../../lib/bot/parse/shape.ts";
import type { Intent } from "../../../lib/bot/query.ts";

const NOW = new Date("2024-04-24T10:00:00Z");

function shape(intent: Intent, prompt: string) {
  const query = assembleQuery(intent, readSignals(prompt, { now: NOW }));
  return { group_by: query.group_by, order: query.order, limit: query.limit };
}

Deno.test("rank: 'best' follows the metric's direction, the limit is the number said", () => {
  assert.deepEqual(shape("rank", "best campaigns by roas"), {
    group_by: "campaign",
    order: "desc",
    limit: 5,
  });
  assert.deepEqual(shape("rank", "best campaigns by cpa"), {
    group_by: "campaign",
    order: "asc",
    limit: 5,
  });
  assert.deepEqual(shape("rank", "worst platform by ctr"), {
    group_by: "platform",
    order: "asc",
    limit: 1,
  });
  assert.deepEqual(shape("rank", "the three campaigns with the lowest cpc"), {
    group_by: "campaign",
    order: "asc",
    limit: 3,
  });
});

Deno.test("trend granularity and comparison grouping", () => {
  assert.equal(shape("trend", "clicks trend").group_by, "day");
  assert.equal(shape("trend", "weekly clicks").group_by, "week");
  assert.equal(shape("trend", "clicks by month").group_by, "month");
  assert.equal(shape("compare", "spend across platforms").group_by, "platform");
  assert.equal(shape("compare", "spend across campaigns").group_by, "campaign");
  // A period comparison has its second period instead of a grouping.
  const periods = assembleQuery(
    "compare",
    readSignals("spend this week vs last week", { now: NOW }),
  );
  assert.equal(periods.group_by, null);
  assert.deepEqual(periods.compare_to, { from: "2024-04-15", to: "2024-04-21" });
});

Deno.test("other intents carry no grouping, order or limit", () => {
  assert.deepEqual(shape("metric", "roas last week"), { group_by: null, order: null, limit: null });
});
