/**
 * Fake mode converts out of the box: the streamer's first start backfills the demo
 * data (USD, EUR and GBP accounts) and seeds a deterministic daily rate history for
 * its currencies over the backfill window, so `/insights?currency=USD` answers.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { auth, KEY_A, testApp } from "../support/test_app.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { Processor } from "../../ingest/processor.ts";
import { Dispatcher } from "../../ingest/dispatcher.ts";
import { SyncLocks } from "../../ingest/locks.ts";
import { FakeStreamer } from "../../ingest/streamer.ts";
import { createFakeSource } from "../../ingest/fake.ts";
import { fakeRates, seedFakeRates } from "../../ingest/fake_fx.ts";

Deno.test("fake rates: weekdays only, a function of the day alone, the week before included", () => {
  const window = { from: "2024-04-15", to: "2024-04-24" };
  const rates = fakeRates(["USD", "EUR", "GBP", "USD"], window);
  const days = [...new Set(rates.map((rate) => rate.day))];
  assert.equal(days[0], "2024-04-08"); // a Monday, 7 days before the window
  assert.ok(days.every((day) => ![0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay())));
  assert.deepEqual([...new Set(rates.map((rate) => rate.quote))], ["USD", "GBP"]);
  const overlapping = fakeRates(["GBP", "USD"], { from: "2024-04-20", to: "2024-04-30" });
  for (const rate of overlapping) {
    const same = rates.find((r) => r.day === rate.day && r.quote === rate.quote);
    if (same) assert.equal(same.rate, rate.rate);
  }
  assert.ok(rates.every((rate) => /^\d+\.\d{4}$/.test(rate.rate)));
});

for (const engine of ENGINES) {
  Deno.test({
    name: `fake mode seeds rates and the demo converts on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const db = await engine.open();
      const now = new Date("2024-04-24T10:00:00Z");
      const { app, store } = await testApp({ db, overrides: { fx: new SqlFxStore(db.driver) } });
      const fx = new SqlFxStore(db.driver);
      try {
        const source = createFakeSource({ tenantId: "tenant-a", campaigns: 8, now: () => now });
        const journal = new IngestJournal(db.driver);
        const telemetry = new Registry();
        const processor = new Processor({
          store,
          journal,
          invalidate: () => Promise.resolve(),
          logger: silentLogger,
          telemetry,
        });
        const dispatcher = new Dispatcher({
          sources: [source],
          processor,
          journal,
          store,
          locks: new SyncLocks(db.driver),
          logger: silentLogger,
          telemetry,
          clock: () => now,
          lookbackDays: 3,
          runner: "test",
          concurrency: 2,
        });
        const streamer = new FakeStreamer({
          source,
          processor,
          dispatcher,
          journal,
          logger: silentLogger,
          telemetry,
          clock: () => now,
          intervalMs: 3_600_000,
          backlogMaxRows: 1_000_000,
          backfillDays: 10,
          seedRates: async (window) => {
            const currencies = source.catalog.accounts.map((account) => account.currency);
            await seedFakeRates(fx, "tenant-a", currencies, window);
          },
        });
        await streamer.start();
        await streamer.stop();

        const mixed = await app.request(
          "/insights?from=2024-04-15&to=2024-04-24&tz=Europe/Berlin",
          {
            headers: auth(KEY_A),
          },
        );
        const plain = await mixed.json();
        assert.equal(plain.currency, null, "the demo mixes currencies");

        const response = await app.request(
          "/insights?from=2024-04-15&to=2024-04-24&currency=USD&tz=Europe/Berlin",
          { headers: auth(KEY_A) },
        );
        const body = await response.json();
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.equal(body.currency, "USD");
        assert.equal(typeof body.totals.cost, "number");
        assert.deepEqual(body.fx.converted, [
          { from: "EUR", paths: ["direct"] },
          { from: "GBP", paths: ["via EUR"] },
        ]);
        assert.deepEqual(body.fx.rate_sources, ["fake"]);
        // Counts never change with conversion.
        assert.equal(body.totals.impressions, plain.totals.impressions);
        // Cost in USD exceeds the USD rows' own cost (EUR and GBP are worth more than a dollar).
        const usd = plain.by_currency.find((c: { currency: string }) => c.currency === "USD");
        assert.ok(body.totals.cost > usd.cost);
      } finally {
        await db.dispose();
      }
    },
  });
}
