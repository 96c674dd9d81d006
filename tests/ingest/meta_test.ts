import assert from "node:assert/strict";
import {
  classifyMeta,
  createMetaSource,
  META_DEFAULT_ACTION_TYPES,
  metaRegainAccessMs,
  normalizeMetaAccountId,
  parseMetaConfig as parseMetaSection,
  selectPurchases,
} from "../../ingest/meta.ts";
import { loadIngestConfig } from "../../ingest/ingest_settings.ts";

/** As the entry point reads it: INGEST_TENANT from the ingest section, the rest from its own. */
function parseMetaConfig(env: Record<string, string>) {
  return parseMetaSection(env, loadIngestConfig(env).INGEST_TENANT);
}
import { ConfigError } from "../../lib/config.ts";
import type { HttpResponseData } from "../../ingest/http.ts";
import { type Source, SourceError } from "../../ingest/source.ts";
import { startOfDayIn } from "../../lib/dates.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { startFakeMeta } from "../fakes/meta_server.ts";
import {
  type FakePlatformServer,
  makeDataset,
  restated,
  storeTotalsByCurrency,
  testHarness,
} from "../fakes/ad_platform.ts";

const WINDOW = { from: "2024-03-01", to: "2024-04-09" }; // 40 days, across the US DST change

function dataset() {
  return makeDataset({
    accounts: [
      { id: "1010101", currency: "USD", timeZone: "America/New_York" },
      { id: "2020202", currency: "EUR", timeZone: "Europe/Berlin" },
    ],
    campaignsPerAccount: 3,
    from: WINDOW.from,
    days: 40,
  });
}

function metaEnv(server: FakePlatformServer, tenant: string, extra: Record<string, string> = {}) {
  return {
    META_ACCESS_TOKEN: server.token,
    META_AD_ACCOUNT_IDS: "act_1010101, 2020202",
    META_API_BASE_URL: server.url,
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
    const result = await store.upsert(batch.rows);
    rejected.push(...result.rejected);
  }
  return { batches, rejected };
}

async function storedTotals(store: SqlMetricsStore, tenantId: string) {
  return storeTotalsByCurrency(await store.totals({ tenantId, platforms: ["meta"] }));
}

Deno.test("meta connector against the fake Graph API", async (t) => {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  try {
    await t.step("pages through chunked windows; stored totals equal served totals", async () => {
      const server = startFakeMeta({ dataset: dataset(), pageSize: 25 });
      try {
        const { deps, waits } = testHarness();
        const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-pages")), deps);
        assert.deepEqual(source.accounts(), ["1010101", "2020202"]);
        const { batches, rejected } = await syncInto(store, source);
        assert.deepEqual(rejected, []);
        assert.deepEqual(server.violations, []);
        assert.deepEqual(waits, []);
        assert.deepEqual(await storedTotals(store, "meta-pages"), server.totals());

        const insights = server.requests.filter((request) => request.path.endsWith("/insights"));
        // 120 rows per account in a 30-day and a 10-day chunk, 25 rows a page: 4 + 2 pages.
        assert.equal(insights.length, 12);
        for (const request of insights) {
          const range = JSON.parse(new URLSearchParams(request.rawQuery).get("time_range")!);
          const days = (Date.parse(range.until) - Date.parse(range.since)) / 86_400_000 + 1;
          assert.ok(days <= 30, `a request asked for ${days} days`);
        }

        const [first] = batches;
        assert.deepEqual(first.account, {
          account_id: "1010101",
          currency: "USD",
          time_zone: "America/New_York",
          name: "Account 1010101",
        });
        assert.equal(first.rows.length, 120);
        assert.equal(first.campaigns.length, 3);
        assert.match(String(first.campaigns[0].name), /^Campaign \d+ "spring"/);
        const rowOf = (date: string) =>
          first.rows.find((row) =>
            (row as { ts: string }).ts === startOfDayIn(date, "America/New_York").toISOString()
          );
        // Midnight in New York is 05:00Z before the DST change and 04:00Z after it.
        assert.equal(
          startOfDayIn("2024-03-01", "America/New_York").toISOString(),
          "2024-03-01T05:00:00.000Z",
        );
        assert.ok(rowOf("2024-03-01"));
        assert.ok(rowOf("2024-04-09"));
        assert.equal(
          (rowOf("2024-04-09") as { ts: string }).ts,
          "2024-04-09T04:00:00.000Z",
        );
      } finally {
        await server.close();
      }
    });

    await t.step(
      "throttled (HTTP 400 code 17): waits the usage header's time, then succeeds",
      async () => {
        const server = startFakeMeta({ dataset: dataset(), regainAccessMinutes: 2 });
        try {
          const { deps, waits, logs } = testHarness({ maxWaitMs: 600_000 });
          const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-throttle")), deps);
          server.faults.throttle = 1;
          await syncInto(store, source);
          assert.deepEqual(waits, [120_000]);
          assert.deepEqual(await storedTotals(store, "meta-throttle"), server.totals());
          assert.ok(logs.some((line) => line.includes("throttled")));
          assert.ok(!logs.some((line) => line.includes(server.token)));
        } finally {
          await server.close();
        }
      },
    );

    await t.step("a platform wait longer than the configured maximum is capped", async () => {
      const server = startFakeMeta({ dataset: dataset(), regainAccessMinutes: 60 });
      try {
        const { deps, waits } = testHarness({ maxWaitMs: 45_000 });
        const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-cap")), deps);
        server.faults.throttle = 1;
        await source.fetch("1010101", WINDOW);
        assert.deepEqual(waits, [45_000]);
      } finally {
        await server.close();
      }
    });

    await t.step("HTTP 500 once: backs off with jitter and succeeds", async () => {
      const server = startFakeMeta({ dataset: dataset() });
      try {
        const { deps, waits } = testHarness();
        const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-5xx")), deps);
        server.faults.serverError = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [250]); // random 0.5 × first ceiling 500 ms
        assert.deepEqual(await storedTotals(store, "meta-5xx"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step(
      "throttled on every attempt: a bounded number of tries, then transient",
      async () => {
        const server = startFakeMeta({ dataset: dataset(), regainAccessMinutes: 0 });
        try {
          const { deps, waits } = testHarness({ maxAttempts: 3 });
          const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-exhausted")), deps);
          server.faults.throttle = 10;
          const error = await source.fetch("1010101", WINDOW).catch((error) => error);
          assert.ok(error instanceof SourceError);
          assert.equal(error.kind, "transient");
          assert.match(error.message, /^meta: .*3 attempts/);
          // No usage signal (0 minutes): full-jitter backoff, 0.5 × 500 then 0.5 × 1000.
          assert.deepEqual(waits, [250, 500]);
        } finally {
          await server.close();
        }
      },
    );

    await t.step("a bad token is an auth error naming the variable, never the token", async () => {
      const server = startFakeMeta({ dataset: dataset() });
      try {
        const { deps, waits, logs } = testHarness();
        const badToken = "EAAG-wrong-token-987654";
        const source = createMetaSource(
          parseMetaConfig(metaEnv(server, "meta-auth", { META_ACCESS_TOKEN: badToken })),
          deps,
        );
        const error = await source.fetch("1010101", WINDOW).catch((error) => error);
        assert.ok(error instanceof SourceError);
        assert.equal(error.kind, "auth");
        assert.equal(error.source, "meta");
        assert.match(error.message, /META_ACCESS_TOKEN/);
        assert.match(error.message, /code 190/);
        assert.ok(!error.message.includes(badToken));
        assert.ok(!logs.join("\n").includes(badToken));
        assert.deepEqual(waits, []);
      } finally {
        await server.close();
      }
    });

    await t.step("a malformed row is rejected by the store; the others are stored", async () => {
      const server = startFakeMeta({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-malformed")), deps);
        server.malformedRow = true;
        const { batches, rejected } = await syncInto(store, source);
        assert.equal(rejected.length, 1);
        assert.equal(rejected[0].field, "cost");
        assert.equal(batches[0].rows.length, 121);
        assert.deepEqual(await storedTotals(store, "meta-malformed"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("restated numbers replace the earlier ones", async () => {
      const server = startFakeMeta({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createMetaSource(parseMetaConfig(metaEnv(server, "meta-restate")), deps);
        await syncInto(store, source);
        const before = await storedTotals(store, "meta-restate");
        assert.deepEqual(before, server.totals());
        server.setDataset(restated(dataset(), { days: 7 }));
        await syncInto(store, source);
        const after = await storedTotals(store, "meta-restate");
        assert.deepEqual(after, server.totals());
        assert.notDeepEqual(after, before);
      } finally {
        await server.close();
      }
    });

    await t.step("the fake fails loudly without time_range", async () => {
      const server = startFakeMeta({ dataset: dataset() });
      try {
        const response = await fetch(
          `${server.url}/act_1010101/insights?level=campaign&time_increment=1&access_token=${server.token}`,
        );
        assert.equal(response.status, 400);
        assert.match((await response.json()).error.message, /time_range/);
        assert.equal(server.violations.length, 1);
      } finally {
        await server.close();
      }
    });
  } finally {
    await db.dispose();
  }
});

Deno.test("meta purchases: one action type, never the overlapping ones added", () => {
  const all = [
    { action_type: "link_click", value: "40" },
    { action_type: "purchase", value: "3" },
    { action_type: "omni_purchase", value: "3" },
    { action_type: "offsite_conversion.fb_pixel_purchase", value: "3" },
  ];
  const values = [
    { action_type: "purchase", value: "120.50" },
    { action_type: "omni_purchase", value: "120.50" },
    { action_type: "offsite_conversion.fb_pixel_purchase", value: "120.50" },
  ];
  assert.deepEqual(selectPurchases(all, values, META_DEFAULT_ACTION_TYPES), {
    actionType: "purchase",
    conversions: "3",
    revenue: "120.50",
  });
  // Only a lower-preference type present: it is used, alone.
  assert.deepEqual(
    selectPurchases(
      [{ action_type: "omni_purchase", value: "2" }],
      [{ action_type: "omni_purchase", value: "80" }],
      META_DEFAULT_ACTION_TYPES,
    ),
    { actionType: "omni_purchase", conversions: "2", revenue: "80" },
  );
  // A configured single type ignores the others even when they are larger.
  assert.deepEqual(
    selectPurchases(
      [{ action_type: "purchase", value: "5" }, {
        action_type: "offsite_conversion.fb_pixel_purchase",
        value: "4",
      }],
      [],
      ["offsite_conversion.fb_pixel_purchase"],
    ),
    { actionType: "offsite_conversion.fb_pixel_purchase", conversions: "4", revenue: "0" },
  );
  assert.deepEqual(selectPurchases(undefined, undefined, ["purchase"]), {
    conversions: "0",
    revenue: "0",
  });
  assert.deepEqual(selectPurchases([{ action_type: "link_click", value: "9" }], [], ["purchase"]), {
    conversions: "0",
    revenue: "0",
  });
  // A malformed list is passed on, so the row is rejected instead of counted as zero.
  assert.deepEqual(selectPurchases("abc", [], ["purchase"]), { conversions: "abc", revenue: "0" });
});

Deno.test("meta throttling signals and error classes", () => {
  const response = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    ({
      status,
      headers: new Headers(headers),
      text: JSON.stringify(body),
      body,
    }) as HttpResponseData;
  const error = (code: number) => ({ error: { code, message: "m" } });
  const context = { now: 0 };
  assert.equal(classifyMeta(response(400, error(190)), context)?.action, "auth");
  assert.equal(classifyMeta(response(400, error(10)), context)?.action, "auth");
  for (const code of [4, 17, 32, 613, 80000, 80004, 80014]) {
    assert.equal(
      classifyMeta(response(400, error(code)), context)?.action,
      "retry",
      `code ${code}`,
    );
  }
  assert.equal(classifyMeta(response(400, error(80015)), context)?.action, "fail");
  assert.equal(classifyMeta(response(400, error(100)), context)?.action, "fail");
  assert.equal(classifyMeta(response(500, error(2)), context)?.action, "retry");
  assert.equal(classifyMeta(response(200, { data: [] }), context), undefined);

  assert.equal(
    metaRegainAccessMs(
      new Headers({
        "x-business-use-case-usage": JSON.stringify({
          "123": [{ type: "ads_insights", estimated_time_to_regain_access: 3 }],
        }),
      }),
    ),
    180_000,
  );
  assert.equal(
    metaRegainAccessMs(
      new Headers({
        "x-ad-account-usage": JSON.stringify({ acc_id_util_pct: 99, reset_time_duration: 40 }),
      }),
    ),
    40_000,
  );
  assert.equal(
    metaRegainAccessMs(
      new Headers({
        "x-ad-account-usage": JSON.stringify({ estimated_time_to_regain_access: 1 }),
      }),
    ),
    60_000,
  );
  assert.equal(metaRegainAccessMs(new Headers({ "x-ad-account-usage": "not json" })), undefined);
  assert.equal(metaRegainAccessMs(new Headers()), undefined);
});

Deno.test("meta config from the environment", () => {
  assert.equal(normalizeMetaAccountId("act_123"), "123");
  assert.equal(normalizeMetaAccountId(" 456 "), "456");
  assert.equal(normalizeMetaAccountId("act_12x"), undefined);
  const config = parseMetaConfig({
    META_ACCESS_TOKEN: "tok",
    META_AD_ACCOUNT_IDS: "act_1,2, act_1",
  });
  assert.deepEqual(config.accountIds, ["1", "2"]);
  assert.equal(config.baseUrl, "https://graph.facebook.com/v21.0");
  assert.deepEqual(config.actionTypes, [...META_DEFAULT_ACTION_TYPES]);
  assert.equal(config.tenantId, "default");
  assert.deepEqual(
    parseMetaConfig({
      META_ACCESS_TOKEN: "tok",
      META_AD_ACCOUNT_IDS: "1",
      META_ACTION_TYPES: "omni_purchase",
    }).actionTypes,
    ["omni_purchase"],
  );
  const error = (() => {
    try {
      parseMetaConfig({ META_ACCESS_TOKEN: " ", META_API_BASE_URL: "not a url" });
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.missing, ["META_ACCESS_TOKEN", "META_AD_ACCOUNT_IDS"]);
  assert.deepEqual(error.invalid.map((item) => item.variable), ["META_API_BASE_URL"]);
  assert.ok(!error.message.includes("not a url"));
});
