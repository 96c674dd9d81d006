import assert from "node:assert/strict";
import {
  calendarToday,
  clampToToday,
  daysBetween,
  previousUnits,
  toDateRange,
  trailingDays,
  unitToDate,
  validDay,
  wholeUnit,
} from "../../../lib/bot/parse/calendar.ts";

const WEDNESDAY = new Date(2024, 3, 24);

Deno.test("calendarToday: the calendar date in UTC or in the given zone", () => {
  const lateUtc = new Date("2024-04-24T23:30:00Z");
  assert.deepEqual(toDateRange({ from: calendarToday(lateUtc), to: calendarToday(lateUtc) }), {
    from: "2024-04-24",
    to: "2024-04-24",
  });
  const berlin = calendarToday(lateUtc, "Europe/Berlin");
  assert.equal(toDateRange({ from: berlin, to: berlin }).from, "2024-04-25");
});

Deno.test("whole units, units to date and previous units (weeks start on Monday)", () => {
  assert.deepEqual(toDateRange(wholeUnit(WEDNESDAY, "week")), {
    from: "2024-04-22",
    to: "2024-04-28",
  });
  assert.deepEqual(toDateRange(unitToDate(WEDNESDAY, "quarter")), {
    from: "2024-04-01",
    to: "2024-04-24",
  });
  assert.deepEqual(toDateRange(previousUnits(WEDNESDAY, "month", 3)), {
    from: "2024-01-01",
    to: "2024-03-31",
  });
  assert.deepEqual(toDateRange(previousUnits(new Date(2024, 2, 15), "month", 1)), {
    from: "2024-02-01",
    to: "2024-02-29",
  });
});

Deno.test("trailing days end yesterday; a running period is clamped to today", () => {
  assert.deepEqual(toDateRange(trailingDays(WEDNESDAY, 7)), {
    from: "2024-04-17",
    to: "2024-04-23",
  });
  assert.deepEqual(toDateRange(clampToToday(wholeUnit(WEDNESDAY, "month"), WEDNESDAY)), {
    from: "2024-04-01",
    to: "2024-04-24",
  });
  const past = wholeUnit(new Date(2024, 2, 5), "month");
  assert.deepEqual(clampToToday(past, WEDNESDAY), past);
});

Deno.test("daysBetween and validDay", () => {
  assert.equal(daysBetween(new Date(2024, 2, 30), new Date(2024, 3, 2)), 3);
  assert.equal(daysBetween(new Date(2024, 3, 2), new Date(2024, 2, 30)), -3);
  assert.equal(validDay(2024, 1, 30), null);
  assert.deepEqual(validDay(2024, 1, 29), new Date(2024, 1, 29));
});
