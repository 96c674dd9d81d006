/**
 * The validator's fast path never disagrees with MetricRowSchema: every row it accepts
 * is exactly the schema's output, and it accepts nothing the schema refuses (it may
 * defer an odd valid row to the schema, which then answers).
 */
import assert from "node:assert/strict";
import { fastMetricRow, MetricRowSchema, validateRows } from "../../lib/schema.ts";
import { backfillWindow, createFakeSource } from "../../ingest/fake.ts";

const VARIANTS: Record<string, unknown[]> = {
  tenant_id: [undefined, "acme", " acme ", "", "a b", "x".repeat(64), "x".repeat(65), 7, null],
  platform: [
    "meta",
    "Facebook",
    " google ads ",
    "GoogleAds",
    "tik_tok",
    "myspace",
    "",
    "meta\n",
    1,
  ],
  account_id: ["111", " 111 ", "", "  ", "a\u0000b", "x".repeat(128), "x".repeat(129), 111],
  campaign_id: ["cmp-1", "é✓", "\ttab", "x".repeat(129)],
  campaign_name: [undefined, "Spring", " Spring ", "", "two\nlines", "x".repeat(513), null, 5],
  campaign_status: [undefined, "active", "x".repeat(65), null],
  ts: [
    "2024-04-01T00:00:00Z",
    "2024-04-01T00:00:00+05:30",
    "2024-04-01T00:00:00.123Z",
    "2024-02-30T00:00:00Z",
    "2024-04-01",
    "1999-12-31T23:59:59Z",
    "2024-04-01T24:00:00Z",
    new Date("2024-04-01T00:00:00Z"),
    new Date("invalid"),
    new Date("1990-01-01T00:00:00Z"),
    "x".repeat(41),
    1711929600000,
  ],
  impressions: [
    0,
    1000,
    -1,
    1.5,
    "1000",
    "01",
    " 1",
    "1e3",
    "99999999999999999",
    2 ** 53,
    NaN,
    null,
  ],
  clicks: [50, "50", ""],
  conversions: ["2.5", 2.5, " 2.5 ", "-1", "1e-7", 1e-7, 1e21, "0.1234567890123", "1.", ".5", 0],
  cost: ["10.10", 10.1, "1234567890123456", "10,10", Infinity],
  revenue: ["40.40", 0.30000000000000004, "abc"],
  currency: ["USD", "usd", " eur ", "XXX", "ABC", "US", 840, null],
  source: [undefined, "test", " test ", "", "x".repeat(65)],
  extra: [undefined, "ignored"],
};

function base(): Record<string, unknown> {
  return {
    tenant_id: "acme",
    platform: "google",
    account_id: "111",
    campaign_id: "cmp-1",
    campaign_name: "Spring Sale",
    ts: "2024-04-01T00:00:00Z",
    impressions: 1000,
    clicks: 50,
    conversions: "2.5",
    cost: "10.10",
    revenue: "40.40",
    currency: "USD",
    source: "test",
  };
}

function agree(input: Record<string, unknown>, label: string): void {
  const fast = fastMetricRow(input);
  const slow = MetricRowSchema.safeParse(input);
  if (fast === undefined) return;
  assert.ok(slow.success, `${label}: the fast path accepted what the schema refuses`);
  assert.deepEqual(fast, slow.data, label);
  assert.deepEqual(Object.keys(fast), Object.keys(slow.data), `${label}: key order`);
}

Deno.test("the fast path agrees with the schema on every single-field variant", () => {
  let accepted = 0;
  for (const [field, values] of Object.entries(VARIANTS)) {
    for (const value of values) {
      const input = base();
      if (value === undefined) delete input[field];
      else input[field] = value;
      agree(input, `${field}=${String(value)}`);
      if (fastMetricRow(input)) accepted++;
    }
  }
  assert.ok(accepted > 40, `the fast path takes the ordinary rows (${accepted})`);
});

Deno.test("the fast path takes the fake source's rows, equal to the schema's output", async () => {
  const source = createFakeSource({ now: () => new Date("2026-01-15T00:00:00Z") });
  const window = backfillWindow(new Date("2026-01-15T00:00:00Z"), 3);
  for (const account of source.accounts().slice(0, 4)) {
    const batch = await source.fetch(account, window);
    for (const row of batch.rows) {
      const input = { ...(row as Record<string, unknown>), tenant_id: "t", source: "fake" };
      assert.ok(fastMetricRow(input), "an ordinary row takes the fast path");
      agree(input, `${account}`);
    }
  }
});

Deno.test("validateRows: same rows and rejections with the fast path as through the schema", () => {
  const inputs: unknown[] = [];
  for (const [field, values] of Object.entries(VARIANTS)) {
    for (const value of values) {
      const input = base();
      if (value === undefined) delete input[field];
      else input[field] = value;
      inputs.push(input);
    }
  }
  const now = new Date("2026-01-01T00:00:00Z");
  const { rows, rejected } = validateRows(inputs, {}, now);
  const expected = inputs.map((input) => MetricRowSchema.safeParse(input));
  assert.equal(rows.length + rejected.length, inputs.length);
  assert.equal(rows.length, expected.filter((r) => r.success).length);
  let next = 0;
  expected.forEach((result, index) => {
    if (result.success) assert.deepEqual(rows[next++], result.data);
    else assert.ok(rejected.some((r) => r.index === index));
  });
});
