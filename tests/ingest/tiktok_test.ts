import assert from "node:assert/strict";
import {
  classifyTikTok,
  createTikTokSource,
  parseTikTokConfig as parseTikTokSection,
  reportParams,
} from "../../ingest/tiktok.ts";
import { loadIngestConfig } from "../../ingest/ingest_settings.ts";

/** As the entry point reads it: INGEST_TENANT from the ingest section, the rest from its own. */
function parseTikTokConfig(env: Record<string, string>) {
  return parseTikTokSection(env, loadIngestConfig(env).INGEST_TENANT);
}
import { ConfigError } from "../../lib/config.ts";
import type { HttpResponseData } from "../../ingest/http.ts";
import { type Source, SourceError } from "../../ingest/source.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { type FakeTikTokServer, startFakeTikTok } from "../fakes/tiktok_server.ts";
import { makeDataset, restated, storeTotalsByCurrency, testHarness } from "../fakes/ad_platform.ts";

const WINDOW = { from: "2024-03-01", to: "2024-04-09" };

function dataset() {
  return makeDataset({
    accounts: [
      { id: "7012345678901234567", currency: "USD", timeZone: "Asia/Tokyo" },
      { id: "7098765432109876543", currency: "EUR", timeZone: "Europe/Paris" },
    ],
    campaignsPerAccount: 3,
    from: WINDOW.from,
    days: 40,
    campaignIdBase: 1_790_000_000_000_000,
  });
}

function tiktokEnv(server: FakeTikTokServer, tenant: string, extra: Record<string, string> = {}) {
  return {
    TIKTOK_ACCESS_TOKEN: server.token,
    TIKTOK_ADVERTISER_IDS: "7012345678901234567, 7098765432109876543",
    TIKTOK_API_BASE_URL: server.url,
    INGEST_TENANT: tenant,
    ...extra,
  };
}

async function syncInto(store: SqlMetricsStore, source: Source) {
  const rejected = [];
  const batches = [];
  for (const account of source.accounts()) {
    const batch = await source.fetch(account, WINDOW);
    batches.push(batch);
    rejected.push(...(await store.upsert(batch.rows)).rejected);
  }
  return { batches, rejected };
}

async function storedTotals(store: SqlMetricsStore, tenantId: string) {
  return storeTotalsByCurrency(await store.totals({ tenantId, platforms: ["tiktok"] }));
}

Deno.test("tiktok connector against the fake Business API", async (t) => {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  try {
    await t.step("pages until total_page within ≤ 30-day windows; exact totals", async () => {
      const server = startFakeTikTok({ dataset: dataset(), pageSize: 25 });
      try {
        const { deps, waits } = testHarness();
        const source = createTikTokSource(parseTikTokConfig(tiktokEnv(server, "tt-pages")), deps);
        const { batches, rejected } = await syncInto(store, source);
        assert.deepEqual(rejected, []);
        assert.deepEqual(server.violations, []);
        assert.deepEqual(waits, []);
        assert.deepEqual(await storedTotals(store, "tt-pages"), server.totals());

        const reports = server.requests.filter((request) =>
          request.path.endsWith("/report/integrated/get/")
        );
        // Per advertiser: 90 rows in 4 pages of 25, then 30 rows in 2 pages.
        const pages = reports.map((request) => new URLSearchParams(request.rawQuery).get("page"));
        assert.deepEqual(pages, ["1", "2", "3", "4", "1", "2", "1", "2", "3", "4", "1", "2"]);
        for (const request of reports) {
          const params = new URLSearchParams(request.rawQuery);
          assert.equal(params.get("page_size"), "1000");
          assert.equal(params.get("dimensions"), '["campaign_id","stat_time_day"]');
          assert.equal(request.headers["access-token"], server.token);
        }
        const [first] = batches;
        assert.deepEqual(first.account, {
          account_id: "7012345678901234567",
          currency: "USD",
          time_zone: "Asia/Tokyo",
          name: "Account 7012345678901234567",
        });
        assert.equal(first.rows.length, 120);
        const row = first.rows[0] as Record<string, unknown>;
        assert.equal(row.ts, "2024-02-29T15:00:00.000Z"); // midnight in Tokyo
        assert.equal(first.campaigns.length, 3);
      } finally {
        await server.close();
      }
    });

    await t.step(
      "conversions are purchases (complete_payment) unless configured otherwise",
      async () => {
        const server = startFakeTikTok({ dataset: dataset() });
        try {
          const { deps } = testHarness();
          const purchases = await createTikTokSource(
            parseTikTokConfig(tiktokEnv(server, "tt-conv")),
            deps,
          ).fetch("7012345678901234567", { from: "2024-03-01", to: "2024-03-01" });
          const goal = await createTikTokSource(
            parseTikTokConfig(
              tiktokEnv(server, "tt-conv", { TIKTOK_CONVERSION_METRIC: "conversion" }),
            ),
            deps,
          ).fetch("7012345678901234567", { from: "2024-03-01", to: "2024-03-01" });
          const conversions = (rows: unknown[]) =>
            rows.map((row) => Number((row as { conversions: string }).conversions));
          assert.deepEqual(conversions(goal.rows), conversions(purchases.rows).map((n) => n + 7));
        } finally {
          await server.close();
        }
      },
    );

    await t.step("code 40100 inside HTTP 200: backs off and succeeds", async () => {
      const server = startFakeTikTok({ dataset: dataset() });
      try {
        const { deps, waits, logs } = testHarness();
        const source = createTikTokSource(
          parseTikTokConfig(tiktokEnv(server, "tt-throttle")),
          deps,
        );
        server.faults.throttle = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [250]);
        assert.ok(logs.some((line) => line.includes("40100")));
        assert.deepEqual(await storedTotals(store, "tt-throttle"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("HTTP 503 and code 50000 once each: retried, then success", async () => {
      const server = startFakeTikTok({ dataset: dataset() });
      try {
        const { deps, waits } = testHarness();
        const source = createTikTokSource(parseTikTokConfig(tiktokEnv(server, "tt-5xx")), deps);
        server.faults.serverError = 1;
        server.codeErrors = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [250, 500]);
        assert.deepEqual(await storedTotals(store, "tt-5xx"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step(
      "code 40105 is an auth error naming TIKTOK_ACCESS_TOKEN, never the token",
      async () => {
        const server = startFakeTikTok({ dataset: dataset() });
        try {
          const { deps, waits, logs } = testHarness();
          const wrong = "tiktok-wrong-token-424242";
          const source = createTikTokSource(
            parseTikTokConfig(tiktokEnv(server, "tt-auth", { TIKTOK_ACCESS_TOKEN: wrong })),
            deps,
          );
          const error = await source.fetch("7012345678901234567", WINDOW).catch((error) => error);
          assert.ok(error instanceof SourceError);
          assert.equal(error.kind, "auth");
          assert.match(error.message, /^tiktok: .*40105.*TIKTOK_ACCESS_TOKEN/);
          assert.ok(!error.message.includes(wrong));
          assert.ok(!logs.join("\n").includes(wrong));
          assert.deepEqual(waits, []);
        } finally {
          await server.close();
        }
      },
    );

    await t.step(
      "a row without a campaign id is rejected by the store; the others stored",
      async () => {
        const server = startFakeTikTok({ dataset: dataset() });
        try {
          const { deps } = testHarness();
          const source = createTikTokSource(
            parseTikTokConfig(tiktokEnv(server, "tt-malformed")),
            deps,
          );
          server.malformedRow = true;
          const { rejected } = await syncInto(store, source);
          assert.equal(rejected.length, 1);
          assert.equal(rejected[0].field, "campaign_id");
          assert.deepEqual(await storedTotals(store, "tt-malformed"), server.totals());
        } finally {
          await server.close();
        }
      },
    );

    await t.step("restated numbers replace the earlier ones", async () => {
      const server = startFakeTikTok({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createTikTokSource(parseTikTokConfig(tiktokEnv(server, "tt-restate")), deps);
        await syncInto(store, source);
        const before = await storedTotals(store, "tt-restate");
        assert.deepEqual(before, server.totals());
        server.setDataset(restated(dataset()));
        await syncInto(store, source);
        const after = await storedTotals(store, "tt-restate");
        assert.deepEqual(after, server.totals());
        assert.notDeepEqual(after, before);
      } finally {
        await server.close();
      }
    });

    await t.step("the fake refuses a daily report longer than 30 days", async () => {
      const server = startFakeTikTok({ dataset: dataset() });
      try {
        const params = reportParams("7012345678901234567", WINDOW, 1, 1000);
        const response = await fetch(`${server.url}/report/integrated/get/?${params}`, {
          headers: { "access-token": server.token },
        });
        assert.equal(response.status, 200);
        const body = await response.json();
        assert.equal(body.code, 40002);
        assert.match(body.message, /30 days/);
        assert.equal(server.violations.length, 1);
      } finally {
        await server.close();
      }
    });
  } finally {
    await db.dispose();
  }
});

Deno.test("tiktok paging stops at total_page, also on a single empty page", async () => {
  const empty = makeDataset({
    accounts: [{ id: "1", currency: "USD", timeZone: "UTC" }],
    campaignsPerAccount: 0,
    from: "2024-03-01",
    days: 1,
  });
  const server = startFakeTikTok({ dataset: empty, pageSize: 1 });
  try {
    const { deps } = testHarness();
    const source = createTikTokSource(
      parseTikTokConfig({
        TIKTOK_ACCESS_TOKEN: server.token,
        TIKTOK_ADVERTISER_IDS: "1",
        TIKTOK_API_BASE_URL: server.url,
      }),
      deps,
    );
    const batch = await source.fetch("1", { from: "2024-03-01", to: "2024-03-05" });
    assert.deepEqual(batch.rows, []);
    assert.equal(
      server.requests.filter((request) => request.path.endsWith("/report/integrated/get/")).length,
      1,
    );
  } finally {
    await server.close();
  }
});

Deno.test("tiktok errors inside HTTP 200", () => {
  const response = (body: unknown, status = 200) =>
    ({ status, headers: new Headers(), text: JSON.stringify(body), body }) as HttpResponseData;
  const verdict = (code: number) =>
    classifyTikTok(response({ code, message: "m" }), { now: 0 })?.action;
  assert.equal(verdict(0), "ok");
  assert.equal(verdict(40100), "retry");
  assert.equal(verdict(40105), "auth");
  assert.equal(verdict(40104), "auth");
  assert.equal(verdict(40001), "fail");
  assert.equal(verdict(40002), "fail");
  assert.equal(verdict(50000), "retry");
  assert.equal(verdict(60001), "retry");
  assert.equal(classifyTikTok(response("<html>", 502), { now: 0 }), undefined);
});

Deno.test("tiktok config and request parameters", () => {
  const config = parseTikTokConfig({ TIKTOK_ACCESS_TOKEN: "t", TIKTOK_ADVERTISER_IDS: "1,2" });
  assert.equal(config.baseUrl, "https://business-api.tiktok.com/open_api/v1.3");
  assert.equal(config.conversionMetric, "complete_payment");
  assert.deepEqual(config.advertiserIds, ["1", "2"]);
  const params = reportParams("1", { from: "2024-04-01", to: "2024-04-30" }, 3, 5000);
  assert.equal(
    params.get("metrics"),
    JSON.stringify([
      "campaign_name",
      "spend",
      "impressions",
      "clicks",
      "conversion",
      "complete_payment",
      "total_complete_payment_rate",
      "currency",
    ]),
  );
  assert.equal(params.get("page"), "3");
  assert.equal(params.get("page_size"), "1000");
  assert.throws(
    () => parseTikTokConfig({ TIKTOK_ADVERTISER_IDS: "abc", TIKTOK_CONVERSION_METRIC: "clicks" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.missing, ["TIKTOK_ACCESS_TOKEN"]);
      assert.deepEqual(error.invalid.map((item) => item.variable).sort(), [
        "TIKTOK_ADVERTISER_IDS",
        "TIKTOK_CONVERSION_METRIC",
      ]);
      return true;
    },
  );
});
