/**
 * The ingestion pipeline: processor (dead letters, retries), dispatcher (independent
 * sources, recorded runs, restatements), locks across processes, the streamer's
 * backlog, and the push API.
 */
import assert from "node:assert/strict";
import {
  ENGINES,
  postgresDatabase,
  postgresMissing,
  type TestDatabase,
} from "../support/databases.ts";
import { auth, KEY_A, metricRow, testApp } from "../support/test_app.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import type { MetricsStore } from "../../lib/store/metrics_store.ts";
import { Processor } from "../../ingest/processor.ts";
import { Dispatcher } from "../../ingest/dispatcher.ts";
import { SyncLocks } from "../../ingest/locks.ts";
import { FakeStreamer } from "../../ingest/streamer.ts";
import { createFakeSource } from "../../ingest/fake.ts";
import { fakeRows } from "../../ingest/fake_rows.ts";
import { ingestHttp } from "../../handlers/ingest.ts";
import type { Source, SourceBatch } from "../../ingest/source.ts";
import { SourceError } from "../../ingest/source.ts";
import { normalizeDecimal } from "../../lib/decimal.ts";

const noSleep = { sleep: () => Promise.resolve() };
const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });

function parts(db: TestDatabase, overrides: { store?: MetricsStore } = {}) {
  const store = overrides.store ?? new SqlMetricsStore(db.driver);
  const journal = new IngestJournal(db.driver);
  const telemetry = new Registry();
  const invalidated: string[] = [];
  const processor = new Processor({
    store,
    journal,
    invalidate: (tenant) => {
      invalidated.push(tenant);
      return Promise.resolve();
    },
    logger: silentLogger,
    telemetry,
    retryDeps: noSleep,
  });
  return { store, journal, telemetry, processor, invalidated };
}

/** A store that fails its first `failures` writes with a connection error. */
function flakyStore(inner: MetricsStore, failures: number): MetricsStore & { calls: number } {
  const flaky = Object.create(inner) as MetricsStore & { calls: number };
  flaky.calls = 0;
  flaky.upsert = (rows) => {
    flaky.calls += 1;
    return flaky.calls <= failures ? Promise.reject(refused()) : inner.upsert(rows);
  };
  return flaky;
}

function staticSource(
  name: "meta" | "google",
  batches: () => SourceBatch,
  accounts = ["1"],
): Source {
  return {
    name,
    tenantId: "tenant-a",
    accounts: () => accounts,
    fetch: () => Promise.resolve(batches()),
  };
}

/** A fake streamer over `store`, with a clock the test moves by hand. */
function streamerOver(
  db: TestDatabase,
  store: MetricsStore,
  options: { seed: number; campaigns: number; tenantId: string; backlogMaxRows: number },
) {
  const { processor, journal, telemetry } = parts(db, { store });
  let now = new Date("2024-04-24T10:00:00Z");
  const { seed, campaigns, tenantId } = options;
  const source = createFakeSource({ seed, campaigns, tenantId, now: () => now });
  const streamer = new FakeStreamer({
    source,
    processor,
    dispatcher: undefined as never,
    journal,
    logger: silentLogger,
    telemetry,
    clock: () => now,
    intervalMs: 1000,
    backlogMaxRows: options.backlogMaxRows,
    backfillDays: 0,
  });
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  return { streamer, source, telemetry, advance };
}

for (const engine of ENGINES) {
  Deno.test({
    name: `ingestion pipeline on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      try {
        await t.step("bad rows are dead-lettered with reasons; the good ones stored", async () => {
          const { processor, store, journal, invalidated } = parts(db);
          const result = await processor.process({
            tenantId: "tenant-a",
            source: "push",
            rows: [
              metricRow({ campaign_id: "dl-1" }),
              { ...metricRow(), clicks: "lots" },
              metricRow({ campaign_id: "dl-2", tenant_id: "tenant-b" }),
              metricRow({ campaign_id: "dl-3" }),
            ],
          });
          assert.equal(result.accepted, 2);
          assert.deepEqual(result.rejected.map((r) => [r.index, r.field]), [[1, "clicks"], [
            2,
            "tenant_id",
          ]]);
          const letters = await journal.recentRejects("tenant-a");
          assert.equal(letters.length, 2);
          const clicks = letters.find((l) => l.field === "clicks")!;
          assert.equal((clicks.payload as { clicks: string }).clicks, "lots", "raw payload kept");
          assert.match(clicks.reason, /./);
          assert.deepEqual(invalidated, ["tenant-a"], "one version bump per committed batch");
          assert.equal((await store.findCampaign("tenant-a", "dl-3")).length, 1);
          assert.equal(
            (await store.findCampaign("tenant-b", "dl-2")).length,
            0,
            "no cross-tenant writes",
          );
        });

        await t.step("a store that fails N times then recovers loses no rows", async () => {
          const base = parts(db);
          const flaky = flakyStore(base.store, 3);
          const { processor } = parts(db, { store: flaky });
          const rows = Array.from(
            { length: 24 },
            (_, h) =>
              metricRow({
                campaign_id: "flaky",
                ts: new Date(Date.UTC(2024, 3, 1, h)).toISOString(),
              }),
          );
          const result = await processor.process({ tenantId: "tenant-a", source: "test", rows });
          assert.equal(result.accepted, 24);
          assert.equal(flaky.calls, 4);
          const totals = await base.store.totals({ tenantId: "tenant-a", campaignIds: ["flaky"] });
          assert.equal(totals.totals[0].impressions, String(24 * 1000));
        });

        await t.step("retries are bounded: a store down for good fails the batch", async () => {
          const base = parts(db);
          const { processor } = parts(db, { store: flakyStore(base.store, 1000) });
          await assert.rejects(
            () => processor.process({ tenantId: "tenant-a", source: "test", rows: [metricRow()] }),
            /ECONNREFUSED/,
          );
        });

        await t.step(
          "sources run independently; runs are recorded; restatements replace",
          async () => {
            const { processor, store, journal, telemetry } = parts(db);
            let cost = "10.00";
            const good = staticSource("google", () => ({
              account: { account_id: "1", currency: "USD", time_zone: "UTC" },
              rows: [metricRow({ platform: "google", campaign_id: "g-1", cost, source: "google" })],
              campaigns: [{
                tenant_id: "tenant-a",
                platform: "google",
                account_id: "1",
                campaign_id: "g-1",
                name: "Search – Brand",
                status: "ENABLED",
              }],
            }));
            const broken: Source = {
              ...staticSource("meta", () => {
                throw new Error("unused");
              }),
              fetch: () =>
                Promise.reject(new SourceError("meta", "META_ACCESS_TOKEN was refused", "auth")),
            };
            const dispatcher = new Dispatcher({
              sources: [broken, good],
              processor,
              journal,
              store,
              locks: new SyncLocks(db.driver),
              logger: silentLogger,
              telemetry,
              clock: () => new Date("2024-04-24T10:00:00Z"),
              lookbackDays: 28,
              runner: "test",
            });
            const first = await dispatcher.runAll();
            assert.deepEqual(first.map((r) => [r.source, r.status]), [["meta", "failed"], [
              "google",
              "succeeded",
            ]]);
            assert.match(first[0].error!, /META_ACCESS_TOKEN/);
            cost = "12.50";
            await dispatcher.runAll({ sources: ["google"] });
            const totals = await store.totals({ tenantId: "tenant-a", campaignIds: ["g-1"] });
            assert.equal(
              normalizeDecimal(totals.totals[0].cost),
              "12.5",
              "the restated day replaced the old one",
            );
            const [campaign] = await store.findCampaign("tenant-a", "g-1");
            assert.equal(campaign.name, "Search – Brand");
            assert.equal(campaign.status, "ENABLED");
            const status = await journal.sourceStatus("tenant-a");
            const google = status.find((s) => s.source === "google")!;
            const meta = status.find((s) => s.source === "meta")!;
            assert.ok(google.last_success_at);
            assert.equal(google.rows_accepted, 1);
            assert.equal(meta.last_success_at, null);
            assert.match(meta.last_error!, /refused/);
            assert.equal(dispatcher.defaultWindow().from, "2024-03-27");
          },
        );

        await t.step("a scheduled slot runs once; a second firing of it is skipped", async () => {
          const { processor, store, journal, telemetry } = parts(db);
          let fetches = 0;
          const source = staticSource("google", () => {
            fetches += 1;
            return {
              account: { account_id: "9", currency: "USD", time_zone: "UTC" },
              rows: [],
              campaigns: [],
            };
          }, ["9"]);
          const dispatcher = new Dispatcher({
            sources: [source],
            processor,
            journal,
            store,
            locks: new SyncLocks(db.driver),
            logger: silentLogger,
            telemetry,
            clock: () => new Date(),
            lookbackDays: 3,
            runner: "test",
          });
          const slot = new Date("2024-04-24T10:15:00Z");
          const [a] = await dispatcher.runAll({ slot });
          const [b] = await dispatcher.runAll({ slot });
          assert.equal(a.status, "succeeded");
          assert.equal(b.status, "skipped");
          assert.equal(fetches, 1);
        });

        await t.step(
          "streams that stopped reporting are marked failed, live ones are not",
          async () => {
            const { journal } = parts(db);
            const dead = await journal.startRun({
              tenantId: "streams",
              source: "fake",
              accountId: "stream",
            });
            const live = await journal.startRun({
              tenantId: "streams",
              source: "fake",
              accountId: "stream",
            });
            await db.driver.query(
              "UPDATE ingest_runs SET started_at = now() - interval '1 hour' WHERE id = $1",
              [dead],
            );
            await journal.addToRun(live!, 5, 0);
            assert.equal(await journal.abandonSilentRuns("streams", "fake", "stream", 600_000), 1);
            const [status] = await journal.sourceStatus("streams");
            assert.equal(status.running, 1);
            assert.match(status.last_error!, /stopped reporting/);
          },
        );

        await t.step(
          "the streamer queues while the database is down and flushes in order",
          async () => {
            const base = parts(db);
            const flaky = flakyStore(base.store, 0);
            let down = true;
            flaky.upsert = (rows) => down ? Promise.reject(refused()) : base.store.upsert(rows);
            const { streamer, source, advance } = streamerOver(db, flaky, {
              seed: 1,
              campaigns: 4,
              tenantId: "stream",
              backlogMaxRows: 10_000,
            });
            for (let i = 1; i <= 5; i++) {
              advance(600_000);
              await streamer.tick().catch(() => {});
            }
            assert.ok(streamer.pendingRows > 0, "rows wait in the backlog");
            down = false;
            advance(600_000);
            await streamer.tick();
            assert.equal(streamer.pendingRows, 0, "backlog flushed");
            // Everything emitted while the database was down arrived: the stored totals
            // equal the fake data of the hours streamed (10:00 to the last tick, 11:00).
            const stored = await base.store.totals({ tenantId: "stream" });
            const emitted = fakeRows(source.catalog, {
              from: new Date("2024-04-24T10:00:00Z"),
              to: new Date("2024-04-24T11:00:00Z"),
              now: new Date("2024-04-24T11:00:00Z"),
            });
            assert.ok(emitted.length > 0);
            const impressions = (currency: string) =>
              emitted.filter((row) => row.currency === currency)
                .reduce((sum, row) => sum + Number(row.impressions), 0);
            for (const sums of stored.totals) {
              assert.equal(Number(sums.impressions), impressions(sums.currency), sums.currency);
            }
            assert.equal(
              stored.totals.reduce((sum, sums) => sum + Number(sums.impressions), 0),
              emitted.reduce((sum, row) => sum + Number(row.impressions), 0),
            );
            assert.equal(streamer.droppedRows, 0);
          },
        );

        await t.step(
          "past its bound the backlog drops the oldest rows and counts them",
          async () => {
            const base = parts(db);
            const { streamer, telemetry, advance } = streamerOver(
              db,
              flakyStore(base.store, 1_000_000),
              { seed: 2, campaigns: 50, tenantId: "drop", backlogMaxRows: 1000 },
            );
            for (let i = 0; i < 30; i++) {
              advance(3_600_000);
              await streamer.tick();
            }
            assert.ok(streamer.pendingRows <= 1000 + 100);
            assert.ok(streamer.droppedRows > 0);
            assert.match(telemetry.render(), /ingest_backlog_dropped_rows_total \d+/);
          },
        );
      } finally {
        await db.dispose();
      }
    },
  });
}

Deno.test({
  name: "postgres: two runners in different processes never run one sync together",
  ignore: postgresMissing,
  sanitizeResources: false,
  async fn() {
    const first = await postgresDatabase();
    // A second pool on the same schema stands in for another replica.
    const second = await postgresDatabase();
    try {
      const locksA = new SyncLocks(first.driver);
      const locksB = new SyncLocks(second.driver);
      let inside = 0;
      let maxInside = 0;
      let ran = 0;
      const work = async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        ran += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        inside -= 1;
      };
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => locksA.run("sync/t/google/1", work)),
        ...Array.from({ length: 4 }, () => locksB.run("sync/t/google/1", work)),
      ]);
      assert.equal(maxInside, 1, "never two at once");
      assert.ok(results.filter((r) => r.ran).length >= 1);
      assert.equal(results.filter((r) => r.ran).length, ran);
      const after = await locksB.run("sync/t/google/1", () => Promise.resolve("free again"));
      assert.deepEqual(after, { ran: true, value: "free again" }, "the lock is released");
    } finally {
      await first.dispose();
      await second.dispose();
    }
  },
});

Deno.test("push API: JSON and NDJSON, idempotent, reasons per row, 503 while the database is down", async (t) => {
  const harness = await testApp();
  const { store, db } = harness;
  const { processor } = parts(db, { store });
  const pushApp = await testApp({
    db,
    extensions: [ingestHttp({
      sink: processor,
      sourceStatus: (tenant) => new IngestJournal(db.driver).sourceStatus(tenant),
      configuredSources: () => ["fake"],
      clock: () => new Date(),
    })],
  });
  const post = (body: string, type = "application/json", key = KEY_A) =>
    pushApp.app.request("/ingest/rows", {
      method: "POST",
      headers: { ...auth(key), "Content-Type": type },
      body,
    });
  try {
    const rows = [
      metricRow({ campaign_id: "p-1" }),
      metricRow({ campaign_id: "p-1", ts: "2024-04-06T00:00:00Z" }),
    ];
    await t.step("the same rows twice never double-count", async () => {
      for (let i = 0; i < 2; i++) {
        const response = await post(JSON.stringify(rows));
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { accepted: 2, rejected: [] });
      }
      const totals = await store.totals({ tenantId: "tenant-a", campaignIds: ["p-1"] });
      assert.equal(totals.totals[0].impressions, "2000");
    });
    await t.step("NDJSON with a bad line and a bad row", async () => {
      const body = [
        JSON.stringify(metricRow({ campaign_id: "p-2" })),
        "{not json",
        JSON.stringify({ ...metricRow(), cost: "-1" }),
      ].join("\n");
      const response = await post(body, "application/x-ndjson");
      const result = await response.json();
      assert.equal(result.accepted, 1);
      assert.deepEqual(
        result.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
        [[1, "row"], [2, "cost"]],
      );
    });
    await t.step("bad bodies and scopes", async () => {
      assert.equal((await post("{{{")).status, 400);
      assert.equal((await post("[]")).status, 400);
      const noScope = await pushApp.app.request("/ingest/rows", {
        method: "POST",
        headers: { Authorization: "Bearer nope-nope-nope" },
        body: "[]",
      });
      assert.equal(noScope.status, 401);
    });
    await t.step("POST /metrics still pushes, marked deprecated with its successor", async () => {
      const row = metricRow({ campaign_id: "p-old-route" });
      const response = await pushApp.app.request("/metrics", {
        method: "POST",
        headers: { ...auth(KEY_A), "Content-Type": "application/json" },
        body: JSON.stringify([row]),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { accepted: 1, rejected: [] });
      assert.equal(response.headers.get("Deprecation"), "true");
      assert.equal(response.headers.get("Link"), '</ingest/rows>; rel="successor-version"');
      const current = await post(JSON.stringify([row]));
      assert.equal(current.headers.get("Deprecation"), null, "the new route is not deprecated");
      const spec = await (await pushApp.app.request("/openapi.json")).json();
      assert.ok(spec.paths["/ingest/rows"].post, "the push is documented at /ingest/rows");
      assert.equal(spec.paths["/ingest/rows"].post.deprecated, undefined);
      assert.equal(spec.paths["/metrics"].post.deprecated, true);
      assert.ok(spec.paths["/metrics"].get, "GET /metrics stays Prometheus");
    });
    await t.step("GET /sources lists configured sources", async () => {
      const response = await pushApp.app.request("/sources", { headers: auth(KEY_A) });
      const body = await response.json();
      assert.ok(
        body.sources.some((s: { source: string; configured: boolean }) =>
          s.source === "fake" && s.configured
        ),
      );
    });
    await t.step("database down: 503 with Retry-After, and nothing lost on retry", async () => {
      let down = true;
      const flaky = Object.create(store) as MetricsStore;
      flaky.upsert = (batch) => down ? Promise.reject(refused()) : store.upsert(batch);
      const downApp = await testApp({
        db,
        extensions: [ingestHttp({
          sink: parts(db, { store: flaky }).processor,
          sourceStatus: () => Promise.resolve([]),
          configuredSources: () => [],
          clock: () => new Date(),
        })],
      });
      const body = JSON.stringify([metricRow({ campaign_id: "p-3" })]);
      const request = () =>
        downApp.app.request("/ingest/rows", {
          method: "POST",
          headers: { ...auth(KEY_A), "Content-Type": "application/json" },
          body,
        });
      const refusedResponse = await request();
      assert.equal(refusedResponse.status, 503);
      assert.ok(Number(refusedResponse.headers.get("Retry-After")) > 0);
      down = false;
      const retried = await request();
      assert.equal(retried.status, 200);
      const totals = await store.totals({ tenantId: "tenant-a", campaignIds: ["p-3"] });
      assert.equal(totals.totals[0].impressions, "1000");
    });
  } finally {
    await harness.dispose();
  }
});
