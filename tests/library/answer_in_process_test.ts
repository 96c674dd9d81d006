/**
 * `answerPromptWithStore` (./store): a prompt answered from an embedded PGlite store in
 * this process, no HTTP server, with the reply quoting the numbers computed from the
 * upserted rows (ratios of sums, one tenant only, the period asked for only).
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { answerPromptWithStore, openMetricsStore, pgliteDriver } from "../../store.ts";

const NOW = new Date("2024-05-15T12:00:00Z"); // last week: 6 May – 12 May

const base = {
  tenant_id: "acme",
  account_id: "acc-1",
  impressions: 1000,
  clicks: 25,
  conversions: 2,
  currency: "USD",
  source: "test",
};

Deno.test("answerPromptWithStore: the reply quotes the numbers of the upserted rows", async (t) => {
  const db = await openMetricsStore(pgliteDriver(new PGlite()));
  try {
    const { accepted } = await db.store.upsert([
      // Last week, tenant acme: cost 30.00 + 20.00, revenue 100.00 + 75.50.
      {
        ...base,
        platform: "google",
        campaign_id: "cmp-1",
        ts: "2024-05-07T12:00:00Z",
        cost: "30.00",
        revenue: "100.00",
      },
      {
        ...base,
        platform: "meta",
        campaign_id: "cmp-2",
        ts: "2024-05-10T12:00:00Z",
        cost: "20.00",
        revenue: "75.50",
      },
      // Outside last week: must not count.
      {
        ...base,
        platform: "meta",
        campaign_id: "cmp-2",
        ts: "2024-05-14T12:00:00Z",
        cost: "999.00",
        revenue: "1.00",
      },
      // Another tenant, same week: must not count.
      {
        ...base,
        tenant_id: "other",
        platform: "meta",
        campaign_id: "cmp-9",
        ts: "2024-05-10T12:00:00Z",
        cost: "5.00",
        revenue: "500.00",
      },
    ]);
    assert.equal(accepted, 4);
    const ask = (prompt: string, previous?: Awaited<ReturnType<typeof answerPromptWithStore>>) =>
      answerPromptWithStore(db.store, prompt, {
        tenantId: "acme",
        now: NOW,
        previous: previous?.query,
      });

    await t.step("ROAS last week is revenue sum ÷ cost sum", async () => {
      const answer = await ask("What was my ROAS last week?");
      assert.deepEqual(answer.query.metrics, ["roas"]);
      assert.deepEqual(answer.query.date_range, { from: "2024-05-06", to: "2024-05-12" });
      const roas = (100 + 75.5) / (30 + 20); // 3.51, not the mean of 3.33 and 3.775
      assert.equal(roas.toFixed(2), "3.51");
      assert.match(answer.reply, /\bROAS\b/);
      assert.match(answer.reply, /\b3\.51\b/);
      assert.match(answer.reply, /6 May to 12 May/);
    });

    await t.step("spend last week is the exact cost sum", async () => {
      const answer = await ask("How much did I spend last week?");
      assert.match(answer.reply, /\$50\.00/);
      assert.doesNotMatch(answer.reply, /1,0\d\d|55\.00/);
    });

    await t.step("a follow-up keeps the period and changes the platform", async () => {
      const first = await ask("What was my ROAS last week?");
      const answer = await ask("and on Meta?", first);
      assert.deepEqual(answer.query.platforms, ["meta"]);
      assert.deepEqual(answer.query.date_range, { from: "2024-05-06", to: "2024-05-12" });
      assert.match(answer.reply, /\b3\.78\b/); // 75.50 / 20.00 = 3.775
    });

    await t.step("a ranking lists the tenant's campaigns with their spend", async () => {
      const answer = await ask("top campaigns by spend last week");
      assert.match(answer.reply, /1\. campaign cmp-1 \(Google\) — \$30\.00/);
      assert.match(answer.reply, /2\. campaign cmp-2 \(Meta\) — \$20\.00/);
      assert.doesNotMatch(answer.reply, /cmp-9/);
    });

    await t.step("currency conversion is refused in words, not thrown", async () => {
      const answer = await ask("spend in euros last week");
      assert.match(answer.reply, /currency conversion is not available/);
    });
  } finally {
    await db.close();
  }
});
