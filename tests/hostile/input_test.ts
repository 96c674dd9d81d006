/**
 * Hostile input (issue #18, items 1–4 and 9), on PGlite and on PostgreSQL: deeply nested
 * bodies, NUL bytes, dates at the edge of the calendar, wrong media types and odd
 * integers are refused with 400/415 naming the field (or rejected per row), never a
 * 500 or a hang; a push never half-answers, and every commit refreshes the cache.
 */
import assert from "node:assert/strict";
import { loadAppConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { CachedReader } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { composeApp } from "../../runtime/compose_app.ts";
import { Processor } from "../../ingest/processor.ts";
import { ENGINES, type TestDatabase } from "../support/databases.ts";
import { metricRow } from "../support/test_app.ts";

const KEY = "hostile-key-0001";
const NOW = new Date("2024-04-24T10:00:00Z");

function harness(db: TestDatabase) {
  const store = new SqlMetricsStore(db.driver);
  const journal = new IngestJournal(db.driver);
  const reader = new CachedReader({ cache: new MemoryCache(), logger: silentLogger });
  const { app } = composeApp({
    config: loadAppConfig({ API_KEY: `tenant-a:${KEY}` }),
    store,
    journal,
    reader,
    logger: silentLogger,
    telemetry: new Registry(),
    clock: () => NOW,
  });
  const headers = { Authorization: `Bearer ${KEY}` };
  const push = (body: string, type: string | null = "application/json") =>
    app.request("/ingest/rows", {
      method: "POST",
      headers: type === null ? headers : { ...headers, "Content-Type": type },
      body,
    });
  const get = (path: string) => app.request(path, { headers });
  return { app, store, journal, reader, push, get };
}

/** Status and parsed body, with a deadline: a hang is a failure, not a stuck test. */
async function answer(response: Response | Promise<Response>, deadlineMs = 10_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    const res = await Promise.race([Promise.resolve(response), timeout]);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } finally {
    clearTimeout(timer);
  }
}

function deepArray(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

for (const engine of ENGINES) {
  Deno.test({
    name: `hostile input (${engine.name}): 400/415 naming the field, no 500, no hang`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const h = harness(db);
      try {
        await t.step("item 1: deeply nested bodies are refused before any parser", async () => {
          for (const depth of [10_000, 1_000_000]) {
            const started = performance.now();
            const refused = await answer(h.push(deepArray(depth)));
            assert.equal(refused.status, 400, `depth ${depth}`);
            assert.equal(refused.body.field, "body[0]");
            assert.ok(performance.now() - started < 2000, "refused quickly");
            const ndjson = await answer(
              h.push(`{"a":${deepArray(depth)}}`, "application/x-ndjson"),
            );
            assert.equal(ndjson.status, 400);
            assert.equal(ndjson.body.field, "body[0]");
          }
          const row = metricRow({ campaign_id: "deep-ok" });
          const second = await answer(
            h.push(JSON.stringify([row, { ...row, platform: [[["google"]]] }])),
          );
          assert.equal(second.status, 400);
          assert.equal(second.body.field, "body[1]");
          const single = await answer(
            h.push(
              JSON.stringify({ ...row, currency: deepArray(0) }).replace(
                '"currency":""',
                `"currency":${deepArray(50)}`,
              ),
            ),
          );
          assert.equal(single.status, 400);
          assert.equal(single.body.field, "body[0]", "one object is row 0, whatever its fields");
          const nested = await answer(h.push(JSON.stringify([{ ...row, platform: { x: 1 } }])));
          assert.equal(nested.status, 400);
          assert.equal(nested.body.field, "body[0].platform");
          for (const body of ['"rows"', "42", "[1]", "[null]", '[{"a":1},"x"]']) {
            const result = await answer(h.push(body));
            assert.equal(result.status, 400, body);
            assert.match(result.body.field, /^body/);
          }
          // The database still answers at once: nothing was stored or left spinning.
          const health = await answer(h.get("/insights"), 5000);
          assert.equal(health.status, 200);
          assert.equal(health.body.totals.impressions, 0);
        });

        await t.step("item 1: dead letters are bounded, whatever a row held", async () => {
          let deep: unknown = "bottom";
          for (let i = 0; i < 100_000; i++) deep = [deep];
          const wide = Object.fromEntries(
            Array.from({ length: 500 }, (_, i) => [`k${i}`, "v".repeat(10)]),
          );
          await h.journal.deadLetter("tenant-a", "test", null, [
            { index: 0, field: "row", error: "deep", payload: deep },
            { index: 1, field: "row\u0000", error: "nul\u0000here", payload: { a: "x\u0000y" } },
            { index: 2, field: "row", error: "wide", payload: wide },
            { index: 3, field: "row", error: "long", payload: { s: "z".repeat(100_000) } },
            { index: 4, field: "row", error: "surrogate", payload: { s: "\ud800" } },
          ]);
          const stored = await h.journal.recentRejects("tenant-a", 10);
          const byIndex = new Map(stored.map((r) => [r.row_index, r]));
          assert.equal(byIndex.size, 5);
          const text = JSON.stringify(stored.map((r) => r.payload));
          assert.ok(text.length < 20_000, `bounded (${text.length} characters)`);
          assert.equal(byIndex.get(1)!.reason, "nul\ufffdhere");
          assert.deepEqual(byIndex.get(1)!.payload, { a: "x\ufffdy" });
          assert.equal(Object.keys(byIndex.get(2)!.payload as object).length, 65);
        });

        await t.step(
          "item 2: a batch with a NUL row stores the valid row, answers 200 and refreshes the cache",
          async () => {
            const before = await answer(h.get("/insights"));
            assert.equal(before.status, 200);
            const impressions = before.body.totals.impressions as number;
            const result = await answer(h.push(JSON.stringify([
              metricRow({ campaign_id: "nul-batch" }),
              metricRow({ campaign_id: "nul-batch", platform: "goo\u0000gle" }),
            ])));
            assert.equal(result.status, 200);
            assert.equal(result.body.accepted, 1);
            assert.deepEqual(
              result.body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
              [[1, "platform"]],
            );
            const after = await answer(h.get("/insights"));
            assert.equal(after.body.totals.impressions, impressions + 1000, "no stale cache");
          },
        );

        await t.step(
          "item 2: a failed dead-letter write still bumps the version and reports",
          async () => {
            const failing = Object.create(h.journal) as IngestJournal;
            failing.deadLetter = () => Promise.reject(new Error("disk full"));
            const bumped: string[] = [];
            const processor = new Processor({
              store: h.store,
              journal: failing,
              invalidate: (tenant) => (bumped.push(tenant), Promise.resolve()),
              logger: silentLogger,
              telemetry: new Registry(),
              clock: () => NOW,
            });
            const result = await processor.process({
              tenantId: "tenant-a",
              source: "test",
              rows: [metricRow({ campaign_id: "dl-fail" }), { ...metricRow(), cost: "-1" }],
            });
            assert.equal(result.accepted, 1);
            assert.deepEqual(result.rejected.map((r) => r.field), ["cost"]);
            assert.deepEqual(bumped, ["tenant-a"]);
          },
        );

        await t.step(
          "item 3: NUL in query and path parameters is a 400 naming the field",
          async () => {
            const cases: [string, string][] = [
              ["/campaign/%00/insights", "id"],
              ["/campaign/a%00b/insights", "id"],
              ["/insights?campaign_id=%00", "campaign_id"],
              ["/campaigns?q=%00", "q"],
              ["/campaigns?cursor=%00", "cursor"],
              ["/insights?tz=%00", "tz"],
            ];
            for (const [path, field] of cases) {
              const result = await answer(h.get(path));
              assert.equal(result.status, 400, path);
              assert.equal(result.body.field, field, path);
            }
          },
        );

        await t.step("item 3: NUL in any text field of a row is a per-row reject", async () => {
          const fields = [
            "platform",
            "account_id",
            "campaign_id",
            "campaign_name",
            "campaign_status",
            "currency",
            "source",
            "tenant_id",
            "ts",
          ] as const;
          const rows = fields.map((field) => ({
            ...metricRow({ campaign_id: `nul-${field}`, campaign_status: "active" }),
            [field]: `x\u0000${String(metricRow({ campaign_status: "active" })[field])}`,
          }));
          const result = await answer(h.push(JSON.stringify(rows)));
          assert.equal(result.status, 200);
          assert.equal(result.body.accepted, 0);
          assert.deepEqual(
            result.body.rejected.map((r: { field: string }) => r.field),
            [...fields],
          );
          const lines = rows.map((row) => JSON.stringify(row)).join("\n");
          const ndjson = await answer(h.push(lines, "application/x-ndjson"));
          assert.equal(ndjson.status, 200);
          assert.equal(ndjson.body.rejected.length, fields.length);
        });

        await t.step("item 4: query dates outside 2000-01-01..2100-12-31 are a 400", async () => {
          const cases: [string, string][] = [
            ["/insights?to=9999-12-31", "to"],
            ["/insights?from=9999-12-31T23:59:59Z", "from"],
            ["/insights?from=1999-12-31", "from"],
            ["/insights?to=2101-01-01", "to"],
            ["/insights?from=2024-01-01T24:00:00Z", "from"],
            ["/insights?from=2024-01-01T10:60:00Z", "from"],
            ["/campaign/x/insights?to=9999-12-31", "to"],
          ];
          for (const [path, field] of cases) {
            const result = await answer(h.get(path));
            assert.equal(result.status, 400, path);
            assert.equal(result.body.field, field, path);
          }
          const edge = await answer(
            h.get("/insights?from=2000-01-01&to=2100-12-31&tz=Pacific/Kiritimati"),
          );
          assert.equal(edge.status, 200, "the documented range itself works");
        });

        await t.step(
          "item 4: row timestamps outside 2000-01-01..now+1 year are rejected",
          async () => {
            const bad = [
              "9999-12-31T23:59:59Z",
              "2024-04-05T24:00:00Z",
              "1999-12-31T23:59:59Z",
              "2025-04-25T10:00:00Z", // a year and a day after the injected clock
              "2024-04-05T10:00:00+24:00",
            ];
            const rows = bad.map((ts, i) => metricRow({ campaign_id: `ts-${i}`, ts }));
            rows.push(metricRow({ campaign_id: "ts-ok", ts: "2025-04-23T10:00:00Z" }));
            const result = await answer(h.push(JSON.stringify(rows)));
            assert.equal(result.status, 200);
            assert.equal(result.body.accepted, 1);
            assert.deepEqual(
              result.body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
              bad.map((_, i) => [i, "ts"]),
            );
          },
        );

        await t.step("item 9: a push with another media type is a 415", async () => {
          const body = JSON.stringify([metricRow({ campaign_id: "media" })]);
          for (
            const type of [
              null,
              "text/plain",
              "application/x-www-form-urlencoded",
              "application/jsonx",
            ]
          ) {
            const result = await answer(h.push(body, type));
            assert.equal(result.status, 415, String(type));
            assert.equal(result.body.field, "Content-Type");
          }
          const ok = await answer(h.push(body, "Application/JSON; charset=utf-8"));
          assert.equal(ok.status, 200);
          assert.equal(ok.body.accepted, 1);
        });

        await t.step("item 9: integer parameters are plain decimal digits", async () => {
          for (const limit of ["0x10", "%205", "5%20", "1e1", "5.0", "-1", "0", "+5", ""]) {
            const result = await answer(h.get(`/campaigns?limit=${limit}`));
            assert.equal(result.status, 400, `limit=${limit}`);
            assert.equal(result.body.field, "limit");
          }
          const ok = await answer(h.get("/campaigns?limit=5"));
          assert.equal(ok.status, 200);
          const insights = await answer(h.get("/insights?group_by=campaign&limit=0x10"));
          assert.equal(insights.status, 400);
        });
      } finally {
        await h.reader.close();
        await db.dispose();
      }
    },
  });
}
