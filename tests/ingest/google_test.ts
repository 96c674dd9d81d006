import assert from "node:assert/strict";
import {
  campaignMetricsQuery,
  classifyGoogle,
  createGoogleSource,
  googleRetryDelayMs,
  microsToDecimal,
  normalizeGoogleCustomerId,
  parseGoogleConfig as parseGoogleSection,
} from "../../ingest/google.ts";
import { loadIngestConfig } from "../../ingest/ingest_settings.ts";

/** As the entry point reads it: INGEST_TENANT from the ingest section, the rest from its own. */
function parseGoogleConfig(env: Record<string, string>) {
  return parseGoogleSection(env, loadIngestConfig(env).INGEST_TENANT);
}
import { ConfigError } from "../../lib/config.ts";
import type { HttpResponseData } from "../../ingest/http.ts";
import { numberToDecimalText } from "../../lib/decimal.ts";
import { type Source, SourceError } from "../../ingest/source.ts";
import { startOfDayIn } from "../../lib/dates.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { type FakeGoogleServer, startFakeGoogle } from "../fakes/google_server.ts";
import { makeDataset, restated, storeTotalsByCurrency, testHarness } from "../fakes/ad_platform.ts";

const WINDOW = { from: "2024-03-01", to: "2024-04-09" };

function dataset() {
  return makeDataset({
    accounts: [
      { id: "1234567890", currency: "USD", timeZone: "America/Los_Angeles" },
      { id: "5550001111", currency: "JPY", timeZone: "Asia/Tokyo" },
    ],
    campaignsPerAccount: 3,
    from: WINDOW.from,
    days: 40,
    moneyScale: 6,
    fractionalConversions: true,
  });
}

function googleEnv(server: FakeGoogleServer, tenant: string, extra: Record<string, string> = {}) {
  return {
    GOOGLE_ADS_DEVELOPER_TOKEN: server.developerToken,
    GOOGLE_ADS_CLIENT_ID: server.clientId,
    GOOGLE_ADS_CLIENT_SECRET: server.clientSecret,
    GOOGLE_ADS_REFRESH_TOKEN: server.refreshToken,
    GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890,555-000-1111",
    GOOGLE_ADS_API_BASE_URL: server.url,
    GOOGLE_OAUTH_TOKEN_URL: server.tokenUrl,
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
  return storeTotalsByCurrency(await store.totals({ tenantId, platforms: ["google"] }));
}

const SECRETS = (server: FakeGoogleServer) => [
  server.developerToken,
  server.clientSecret,
  server.refreshToken,
];

Deno.test("google connector against the fake Google Ads API", async (t) => {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  try {
    await t.step("streams batches; one cached access token; exact totals", async () => {
      const server = startFakeGoogle({
        dataset: dataset(),
        batchSize: 7,
        loginCustomerId: "9998887776",
      });
      try {
        const { deps, waits } = testHarness();
        const config = parseGoogleConfig(
          googleEnv(server, "google-pages", { GOOGLE_ADS_LOGIN_CUSTOMER_ID: "999-888-7776" }),
        );
        const source = createGoogleSource(config, deps);
        assert.deepEqual(source.accounts(), ["1234567890", "5550001111"]);
        const { batches, rejected } = await syncInto(store, source);
        assert.deepEqual(rejected, []);
        assert.deepEqual(server.violations, []);
        assert.deepEqual(waits, []);
        assert.equal(server.tokenExchanges, 1, "one token exchange shared by both customers");
        assert.deepEqual(await storedTotals(store, "google-pages"), server.totals());

        const searches = server.requests.filter((request) =>
          request.path.endsWith(":searchStream")
        );
        assert.equal(searches.length, 4); // customer + metrics query per customer
        for (const request of searches) {
          assert.equal(request.headers["developer-token"], server.developerToken);
          assert.equal(request.headers["login-customer-id"], "9998887776");
          assert.match(request.headers["authorization"], /^Bearer ya29\./);
        }
        const [first] = batches;
        assert.equal(first.rows.length, 120);
        assert.deepEqual(first.account, {
          account_id: "1234567890",
          currency: "USD",
          time_zone: "America/Los_Angeles",
          name: null,
        });
        const row = first.rows[0] as Record<string, unknown>;
        assert.equal(row.ts, startOfDayIn("2024-03-01", "America/Los_Angeles").toISOString());
        assert.equal(row.source, "google");
        assert.equal(row.tenant_id, "google-pages");
        assert.ok(
          first.campaigns.every((campaign) =>
            campaign.status === "ENABLED" || campaign.status === "PAUSED"
          ),
        );
      } finally {
        await server.close();
      }
    });

    await t.step("the access token is refreshed shortly before it expires", async () => {
      const server = startFakeGoogle({ dataset: dataset(), expiresIn: 3600 });
      try {
        let now = Date.parse("2024-04-10T00:00:00Z");
        const { deps } = testHarness();
        const source = createGoogleSource(parseGoogleConfig(googleEnv(server, "google-expiry")), {
          ...deps,
          now: () => now,
        });
        await source.fetch("1234567890", WINDOW);
        now += 3_500_000; // 58m20s: still more than a minute left
        await source.fetch("1234567890", WINDOW);
        assert.equal(server.tokenExchanges, 1);
        now += 60_000; // within the last minute of the token's life
        await source.fetch("1234567890", WINDOW);
        assert.equal(server.tokenExchanges, 2);
      } finally {
        await server.close();
      }
    });

    await t.step("RESOURCE_EXHAUSTED (429): waits retryDelay, then succeeds", async () => {
      const server = startFakeGoogle({ dataset: dataset(), retryDelay: "1.5s" });
      try {
        const { deps, waits, logs } = testHarness();
        const source = createGoogleSource(
          parseGoogleConfig(googleEnv(server, "google-throttle")),
          deps,
        );
        server.faults.throttle = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [1500]);
        assert.deepEqual(await storedTotals(store, "google-throttle"), server.totals());
        assert.ok(logs.some((line) => line.includes("RESOURCE_EXHAUSTED")));
        for (const secret of SECRETS(server)) assert.ok(!logs.join("\n").includes(secret));
        assert.ok(!logs.join("\n").includes("ya29."));
      } finally {
        await server.close();
      }
    });

    await t.step("HTTP 503 once: backs off and succeeds", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const { deps, waits } = testHarness();
        const source = createGoogleSource(parseGoogleConfig(googleEnv(server, "google-5xx")), deps);
        server.faults.serverError = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [250]);
        assert.deepEqual(await storedTotals(store, "google-5xx"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("a revoked access token is exchanged again once", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createGoogleSource(
          parseGoogleConfig(googleEnv(server, "google-revoked")),
          deps,
        );
        await source.fetch("1234567890", WINDOW);
        server.revokeAccessTokens();
        const batch = await source.fetch("1234567890", WINDOW);
        assert.equal(batch.rows.length, 120);
        assert.equal(server.tokenExchanges, 2);
      } finally {
        await server.close();
      }
    });

    await t.step(
      "a bad refresh token is an auth error naming the variables, not the secret",
      async () => {
        const server = startFakeGoogle({ dataset: dataset() });
        try {
          const { deps, waits, logs } = testHarness();
          const wrong = "1//wrong-refresh-token-xyz";
          const source = createGoogleSource(
            parseGoogleConfig(
              googleEnv(server, "google-auth", { GOOGLE_ADS_REFRESH_TOKEN: wrong }),
            ),
            deps,
          );
          const error = await source.fetch("1234567890", WINDOW).catch((error) => error);
          assert.ok(error instanceof SourceError);
          assert.equal(error.kind, "auth");
          assert.match(error.message, /^google: /);
          assert.match(error.message, /GOOGLE_ADS_REFRESH_TOKEN/);
          assert.match(error.message, /invalid_grant/);
          for (const secret of [wrong, server.clientSecret]) {
            assert.ok(!error.message.includes(secret));
            assert.ok(!logs.join("\n").includes(secret));
          }
          assert.deepEqual(waits, []);
        } finally {
          await server.close();
        }
      },
    );

    await t.step("a bad developer token names GOOGLE_ADS_DEVELOPER_TOKEN", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const wrong = "wrong-developer-token-abc";
        const source = createGoogleSource(
          parseGoogleConfig(googleEnv(server, "google-dev", { GOOGLE_ADS_DEVELOPER_TOKEN: wrong })),
          deps,
        );
        const error = await source.fetch("1234567890", WINDOW).catch((error) => error);
        assert.ok(error instanceof SourceError);
        assert.equal(error.kind, "auth");
        assert.match(error.message, /GOOGLE_ADS_DEVELOPER_TOKEN/);
        assert.ok(!error.message.includes(wrong));
        assert.ok(!error.message.includes("ya29."));
      } finally {
        await server.close();
      }
    });

    await t.step("a malformed row is rejected by the store; the others are stored", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createGoogleSource(
          parseGoogleConfig(googleEnv(server, "google-malformed")),
          deps,
        );
        server.malformedRow = true;
        const { rejected } = await syncInto(store, source);
        assert.equal(rejected.length, 1);
        assert.equal(rejected[0].field, "cost");
        assert.deepEqual(await storedTotals(store, "google-malformed"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("restated numbers replace the earlier ones", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createGoogleSource(
          parseGoogleConfig(googleEnv(server, "google-restate")),
          deps,
        );
        await syncInto(store, source);
        const before = await storedTotals(store, "google-restate");
        assert.deepEqual(before, server.totals());
        server.setDataset(restated(dataset(), { moneyScale: 6, fractionalConversions: true }));
        await syncInto(store, source);
        const after = await storedTotals(store, "google-restate");
        assert.deepEqual(after, server.totals());
        assert.notDeepEqual(after, before);
      } finally {
        await server.close();
      }
    });

    await t.step("the fake fails loudly without a developer-token", async () => {
      const server = startFakeGoogle({ dataset: dataset() });
      try {
        const tokenResponse = await fetch(server.tokenUrl, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "refresh_token",
            client_id: server.clientId,
            client_secret: server.clientSecret,
            refresh_token: server.refreshToken,
          }),
        });
        const { access_token: accessToken } = await tokenResponse.json();
        const response = await fetch(`${server.url}/customers/1234567890/googleAds:searchStream`, {
          method: "POST",
          headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
          body: JSON.stringify({ query: campaignMetricsQuery(WINDOW) }),
        });
        assert.equal(response.status, 400);
        assert.match((await response.json()).error.message, /developer-token/);
        assert.deepEqual(server.violations, ["developer-token header is missing"]);
      } finally {
        await server.close();
      }
    });
  } finally {
    await db.dispose();
  }
});

Deno.test("google GAQL is the documented query", () => {
  assert.equal(
    campaignMetricsQuery({ from: "2024-04-01", to: "2024-04-28" }),
    "SELECT campaign.id, campaign.name, campaign.status, segments.date, metrics.impressions, " +
      "metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value " +
      "FROM campaign WHERE segments.date BETWEEN '2024-04-01' AND '2024-04-28'",
  );
});

Deno.test("google money: costMicros and doubles converted exactly", () => {
  assert.equal(microsToDecimal("1230000"), "1.23");
  assert.equal(microsToDecimal("1"), "0.000001");
  assert.equal(microsToDecimal("999999"), "0.999999");
  assert.equal(microsToDecimal("123456789012345678"), "123456789012.345678");
  assert.equal(microsToDecimal(2_500_000), "2.5");
  assert.equal(microsToDecimal("0"), "0");
  assert.equal(microsToDecimal(undefined), "0");
  assert.equal(microsToDecimal("abc"), "abc");
  assert.equal(microsToDecimal(1.5), 1.5);
  // A float division would give 0.30000000000000004-style noise for some values:
  assert.equal(microsToDecimal("300000"), "0.3");
  assert.equal(microsToDecimal("10000001"), "10.000001");

  assert.equal(numberToDecimalText(12.34), "12.34");
  assert.equal(numberToDecimalText(0.1), "0.1");
  assert.equal(numberToDecimalText(5e-7), "0.0000005");
  assert.equal(numberToDecimalText(1.25e-10), "0.000000000125");
  assert.equal(numberToDecimalText(1e21), "1000000000000000000000");
  assert.equal(numberToDecimalText(2.5e21), "2500000000000000000000");
  assert.equal(numberToDecimalText(3), "3");
});

Deno.test("google errors: retryDelay, auth, and errors inside a 200 stream", () => {
  const response = (status: number, body: unknown) =>
    ({ status, headers: new Headers(), text: JSON.stringify(body), body }) as HttpResponseData;
  const quota = {
    error: {
      code: 429,
      status: "RESOURCE_EXHAUSTED",
      message: "quota",
      details: [{
        errors: [{
          errorCode: { quotaError: "RESOURCE_EXHAUSTED" },
          details: { quotaErrorDetails: { retryDelay: "30s" } },
        }],
      }],
    },
  };
  assert.equal(googleRetryDelayMs(quota.error.details), 30_000);
  assert.equal(googleRetryDelayMs([{ retryDelay: "0.250s" }]), 250);
  assert.equal(googleRetryDelayMs([]), undefined);
  assert.deepEqual(classifyGoogle(response(429, quota), { now: 0 }), {
    action: "retry",
    reason: "HTTP 429 RESOURCE_EXHAUSTED: quota [quotaError.RESOURCE_EXHAUSTED]",
    waitMs: 30_000,
  });
  assert.equal(
    classifyGoogle(response(401, { error: { code: 401, status: "UNAUTHENTICATED" } }), { now: 0 })
      ?.action,
    "auth",
  );
  assert.equal(
    classifyGoogle(response(403, { error: { code: 403, status: "PERMISSION_DENIED" } }), { now: 0 })
      ?.action,
    "auth",
  );
  assert.equal(
    classifyGoogle(response(400, { error: { code: 400, status: "INVALID_ARGUMENT" } }), { now: 0 })
      ?.action,
    "fail",
  );
  // searchStream can fail mid-stream: an array whose element is an error.
  assert.equal(
    classifyGoogle(
      response(200, [{ results: [] }, { error: { code: 503, status: "UNAVAILABLE" } }]),
      { now: 0 },
    )?.action,
    "retry",
  );
  assert.equal(classifyGoogle(response(200, [{ results: [] }]), { now: 0 }), undefined);
});

Deno.test("google config from the environment", () => {
  assert.equal(normalizeGoogleCustomerId("123-456-7890"), "1234567890");
  assert.equal(normalizeGoogleCustomerId("1234567890"), "1234567890");
  assert.equal(normalizeGoogleCustomerId("123-abc"), undefined);
  const base = {
    GOOGLE_ADS_DEVELOPER_TOKEN: "d",
    GOOGLE_ADS_CLIENT_ID: "c",
    GOOGLE_ADS_CLIENT_SECRET: "s",
    GOOGLE_ADS_REFRESH_TOKEN: "r",
    GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
  };
  const config = parseGoogleConfig(base);
  assert.equal(config.baseUrl, "https://googleads.googleapis.com/v17");
  assert.equal(config.tokenUrl, "https://oauth2.googleapis.com/token");
  assert.equal(config.loginCustomerId, undefined);
  assert.equal(
    parseGoogleConfig({ ...base, GOOGLE_ADS_LOGIN_CUSTOMER_ID: "111-222-3333" }).loginCustomerId,
    "1112223333",
  );
  assert.throws(
    () => parseGoogleConfig({ GOOGLE_ADS_CUSTOMER_IDS: "12-x" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.missing, [
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CLIENT_ID",
        "GOOGLE_ADS_CLIENT_SECRET",
        "GOOGLE_ADS_REFRESH_TOKEN",
      ]);
      assert.deepEqual(error.invalid.map((item) => item.variable), ["GOOGLE_ADS_CUSTOMER_IDS"]);
      return true;
    },
  );
});
