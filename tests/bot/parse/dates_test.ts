import assert from "node:assert/strict";
import { toDateRange } from "../../../lib/bot/parse/calendar.ts";
import { extractDates } from "../../../lib/bot/parse/dates.ts";
import { MASK, MaskedText } from "../../../lib/bot/parse/masked_text.ts";

const TODAY = new Date(2024, 3, 24);

function periods(text: string) {
  const masked = new MaskedText(text);
  const found = extractDates(masked, TODAY);
  return {
    range: found.range && toDateRange(found.range),
    compareTo: found.compareTo && toDateRange(found.compareTo),
    count: found.count,
    masked: masked.value,
  };
}

Deno.test("extractDates: ranges are joined, open ranges end today", () => {
  assert.deepEqual(periods("spend from march 1 to march 15").range, {
    from: "2024-03-01",
    to: "2024-03-15",
  });
  assert.deepEqual(periods("spend between 2024-02-01 and 2024-02-10").range, {
    from: "2024-02-01",
    to: "2024-02-10",
  });
  assert.deepEqual(periods("spend since april 1").range, { from: "2024-04-01", to: "2024-04-24" });
  // Implicit years make an ordered range.
  assert.deepEqual(periods("clicks dec 15 to jan 10").range, {
    from: "2023-12-15",
    to: "2024-01-10",
  });
});

Deno.test("extractDates: a period and the one it is compared with", () => {
  const weeks = periods("spend this week vs last week");
  assert.deepEqual(weeks.range, { from: "2024-04-22", to: "2024-04-24" });
  assert.deepEqual(weeks.compareTo, { from: "2024-04-15", to: "2024-04-21" });
  assert.equal(weeks.count, 2);
  const previous = periods("clicks last month vs the month before");
  assert.deepEqual(previous.compareTo, { from: "2024-02-01", to: "2024-02-29" });
  // Said alone, MoM is last month against the month before it (contract version 2).
  const mom = periods("revenue mom");
  assert.deepEqual(mom.range, { from: "2024-03-01", to: "2024-03-31" });
  assert.deepEqual(mom.compareTo, { from: "2024-02-01", to: "2024-02-29" });
});

Deno.test("extractDates: no time said, nothing masked", () => {
  const none = periods("roas on meta");
  assert.deepEqual([none.range, none.compareTo, none.count], [null, null, 0]);
  assert.equal(none.masked, "roas on meta");
  assert.ok(periods("roas last week").masked.includes(MASK));
});
