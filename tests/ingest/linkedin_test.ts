import assert from "node:assert/strict";
import {
  analyticsQuery,
  campaignIdFromUrn,
  createLinkedInSource,
  LINKEDIN_DEFAULT_VERSION,
  type LinkedInConfig,
  normalizeLinkedInAccountId,
  parseLinkedInConfig as parseLinkedInSection,
  restliDate,
} from "../../ingest/linkedin.ts";
import { loadIngestConfig } from "../../ingest/ingest_settings.ts";

/** As the entry point reads it: INGEST_TENANT from the ingest section, the rest from its own. */
function parseLinkedInConfig(env: Record<string, string>) {
  return parseLinkedInSection(env, loadIngestConfig(env).INGEST_TENANT);
}
import { ConfigError } from "../../lib/config.ts";
import { type Source, SourceError } from "../../ingest/source.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { pgliteDatabase } from "../support/databases.ts";
import { startFakeLinkedIn } from "../fakes/linkedin_server.ts";
import {
  type FakePlatformServer,
  makeDataset,
  restated,
  storeTotalsByCurrency,
  testHarness,
} from "../fakes/ad_platform.ts";

const WINDOW = { from: "2024-03-01", to: "2024-04-09" };

function dataset() {
  return makeDataset({
    accounts: [
      { id: "507777777", currency: "USD", timeZone: "UTC" },
      { id: "508888888", currency: "GBP", timeZone: "UTC" },
    ],
    campaignsPerAccount: 3,
    from: WINDOW.from,
    days: 40,
    moneyScale: 3,
    campaignIdBase: 180_000_000,
  });
}

function linkedInEnv(
  server: FakePlatformServer,
  tenant: string,
  extra: Record<string, string> = {},
) {
  return {
    LINKEDIN_ACCESS_TOKEN: server.token,
    LINKEDIN_AD_ACCOUNT_IDS: "urn:li:sponsoredAccount:507777777,508888888",
    LINKEDIN_API_BASE_URL: server.url,
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
  return storeTotalsByCurrency(await store.totals({ tenantId, platforms: ["linkedin"] }));
}

Deno.test("linkedin connector against the fake Marketing API", async (t) => {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  try {
    await t.step("Rest.li analytics per chunk, paged campaign search, exact totals", async () => {
      const server = startFakeLinkedIn({ dataset: dataset(), campaignPageSize: 2 });
      try {
        const { deps, waits } = testHarness();
        const source = createLinkedInSource(
          parseLinkedInConfig(linkedInEnv(server, "li-pages")),
          deps,
        );
        assert.deepEqual(source.accounts(), ["507777777", "508888888"]);
        const { batches, rejected } = await syncInto(store, source);
        assert.deepEqual(rejected, []);
        assert.deepEqual(server.violations, []);
        assert.deepEqual(waits, []);
        assert.deepEqual(await storedTotals(store, "li-pages"), server.totals());

        const analytics = server.requests.filter((request) => request.path === "/rest/adAnalytics");
        assert.equal(analytics.length, 4); // 30 + 10 days per account
        assert.ok(
          analytics[0].rawQuery.includes(
            "dateRange=(start:(year:2024,month:3,day:1),end:(year:2024,month:3,day:30))",
          ),
        );
        assert.ok(
          analytics[0].rawQuery.includes("accounts=List(urn%3Ali%3AsponsoredAccount%3A507777777)"),
        );
        for (const request of server.requests) {
          assert.equal(request.headers["linkedin-version"], LINKEDIN_DEFAULT_VERSION);
          assert.equal(request.headers["x-restli-protocol-version"], "2.0.0");
        }
        const searches = server.requests.filter((request) => request.path.endsWith("/adCampaigns"));
        assert.equal(searches.length, 4); // 3 campaigns, 2 a page, per account

        const [first] = batches;
        assert.deepEqual(first.account, {
          account_id: "507777777",
          currency: "USD",
          time_zone: "UTC",
          name: "Account 507777777",
        });
        assert.equal(first.rows.length, 120);
        assert.equal(first.campaigns.length, 3);
        const row = first.rows[0] as Record<string, unknown>;
        assert.equal(row.ts, "2024-03-01T00:00:00.000Z");
        assert.match(String(row.campaign_id), /^\d+$/);
        assert.match(String(row.campaign_name), /^Campaign \d+/);
        assert.ok(["ACTIVE", "PAUSED"].includes(String(row.campaign_status)));
      } finally {
        await server.close();
      }
    });

    await t.step("a response that reaches the element cap is split until it fits", async () => {
      const server = startFakeLinkedIn({ dataset: dataset(), elementCap: 50 });
      try {
        const { deps } = testHarness();
        const config: LinkedInConfig = {
          ...parseLinkedInConfig(linkedInEnv(server, "li-cap")),
          elementCap: 50,
        };
        const source = createLinkedInSource(config, deps);
        const { batches, rejected } = await syncInto(store, source);
        assert.deepEqual(rejected, []);
        assert.equal(batches[0].rows.length, 120);
        assert.deepEqual(await storedTotals(store, "li-cap"), server.totals());
        const analytics = server.requests.filter((request) => request.path === "/rest/adAnalytics");
        assert.ok(analytics.length > 4, `${analytics.length} requests`);
      } finally {
        await server.close();
      }
    });

    await t.step("429 with Retry-After: waits that long, then succeeds", async () => {
      const server = startFakeLinkedIn({ dataset: dataset(), retryAfterSeconds: 3 });
      try {
        const { deps, waits } = testHarness();
        const source = createLinkedInSource(
          parseLinkedInConfig(linkedInEnv(server, "li-throttle")),
          deps,
        );
        server.faults.throttle = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [3000]);
        assert.deepEqual(await storedTotals(store, "li-throttle"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("HTTP 500 once: backs off and succeeds", async () => {
      const server = startFakeLinkedIn({ dataset: dataset() });
      try {
        const { deps, waits } = testHarness();
        const source = createLinkedInSource(
          parseLinkedInConfig(linkedInEnv(server, "li-5xx")),
          deps,
        );
        server.faults.serverError = 1;
        await syncInto(store, source);
        assert.deepEqual(waits, [250]);
        assert.deepEqual(await storedTotals(store, "li-5xx"), server.totals());
      } finally {
        await server.close();
      }
    });

    await t.step("401 is an auth error naming LINKEDIN_ACCESS_TOKEN, never the token", async () => {
      const server = startFakeLinkedIn({ dataset: dataset() });
      try {
        const { deps, waits, logs } = testHarness();
        const wrong = "AQV-wrong-token-000111";
        const source = createLinkedInSource(
          parseLinkedInConfig(linkedInEnv(server, "li-auth", { LINKEDIN_ACCESS_TOKEN: wrong })),
          deps,
        );
        const error = await source.fetch("507777777", WINDOW).catch((error) => error);
        assert.ok(error instanceof SourceError);
        assert.equal(error.kind, "auth");
        assert.match(error.message, /^linkedin: .*LINKEDIN_ACCESS_TOKEN/);
        assert.ok(!error.message.includes(wrong));
        assert.ok(!logs.join("\n").includes(wrong));
        assert.deepEqual(waits, []);
      } finally {
        await server.close();
      }
    });

    await t.step(
      "a retired LinkedIn-Version is a permanent error naming LINKEDIN_VERSION",
      async () => {
        const server = startFakeLinkedIn({ dataset: dataset() });
        try {
          const { deps } = testHarness();
          const source = createLinkedInSource(
            parseLinkedInConfig(linkedInEnv(server, "li-version", { LINKEDIN_VERSION: "202201" })),
            deps,
          );
          const error = await source.fetch("507777777", WINDOW).catch((error) => error);
          assert.ok(error instanceof SourceError);
          assert.equal(error.kind, "permanent");
          assert.match(error.message, /LINKEDIN_VERSION/);
        } finally {
          await server.close();
        }
      },
    );

    await t.step(
      "a malformed element is rejected by the store; the others are stored",
      async () => {
        const server = startFakeLinkedIn({ dataset: dataset() });
        try {
          const { deps } = testHarness();
          const source = createLinkedInSource(
            parseLinkedInConfig(linkedInEnv(server, "li-malformed")),
            deps,
          );
          server.malformedRow = true;
          const { rejected } = await syncInto(store, source);
          assert.equal(rejected.length, 1);
          assert.equal(rejected[0].field, "cost");
          assert.deepEqual(await storedTotals(store, "li-malformed"), server.totals());
        } finally {
          await server.close();
        }
      },
    );

    await t.step("restated numbers replace the earlier ones", async () => {
      const server = startFakeLinkedIn({ dataset: dataset() });
      try {
        const { deps } = testHarness();
        const source = createLinkedInSource(
          parseLinkedInConfig(linkedInEnv(server, "li-restate")),
          deps,
        );
        await syncInto(store, source);
        const before = await storedTotals(store, "li-restate");
        assert.deepEqual(before, server.totals());
        server.setDataset(restated(dataset(), { moneyScale: 3 }));
        await syncInto(store, source);
        const after = await storedTotals(store, "li-restate");
        assert.deepEqual(after, server.totals());
        assert.notDeepEqual(after, before);
      } finally {
        await server.close();
      }
    });

    await t.step(
      "the fake refuses a generically encoded query (wrong Rest.li syntax)",
      async () => {
        const server = startFakeLinkedIn({ dataset: dataset() });
        try {
          const generic = new URLSearchParams({
            q: "analytics",
            pivot: "CAMPAIGN",
            timeGranularity: "DAILY",
            dateRange: "(start:(year:2024,month:3,day:1),end:(year:2024,month:3,day:2))",
            accounts: "List(urn:li:sponsoredAccount:507777777)",
            fields: "pivotValues,dateRange,impressions,clicks,costInLocalCurrency," +
              "externalWebsiteConversions,conversionValueInLocalCurrency",
          });
          const response = await fetch(`${server.url}/adAnalytics?${generic}`, {
            headers: {
              authorization: `Bearer ${server.token}`,
              "linkedin-version": LINKEDIN_DEFAULT_VERSION,
              "x-restli-protocol-version": "2.0.0",
            },
          });
          assert.equal(response.status, 400);
          await response.body?.cancel();
          assert.equal(server.violations.length, 1);
          assert.match(server.violations[0], /dateRange is not Rest.li syntax/);
        } finally {
          await server.close();
        }
      },
    );
  } finally {
    await db.dispose();
  }
});

Deno.test("linkedin Rest.li query building", () => {
  assert.equal(restliDate("2024-04-01"), "(year:2024,month:4,day:1)");
  assert.equal(restliDate("2024-12-31"), "(year:2024,month:12,day:31)");
  assert.equal(
    analyticsQuery("507777777", { from: "2024-04-01", to: "2024-04-28" }),
    "q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY" +
      "&dateRange=(start:(year:2024,month:4,day:1),end:(year:2024,month:4,day:28))" +
      "&accounts=List(urn%3Ali%3AsponsoredAccount%3A507777777)" +
      "&fields=pivotValues,dateRange,impressions,clicks,costInLocalCurrency," +
      "externalWebsiteConversions,conversionValueInLocalCurrency",
  );
  // The URL parser leaves the Rest.li structure alone.
  const url = new URL(
    `https://api.linkedin.com/rest/adAnalytics?${analyticsQuery("1", WINDOW)}`,
  );
  assert.ok(url.search.includes("accounts=List(urn%3Ali%3AsponsoredAccount%3A1)"));
  assert.ok(url.search.includes("dateRange=(start:(year:2024,month:3,day:1),"));
});

Deno.test("linkedin ids and config", () => {
  assert.equal(normalizeLinkedInAccountId("urn:li:sponsoredAccount:507777777"), "507777777");
  assert.equal(normalizeLinkedInAccountId("507777777"), "507777777");
  assert.equal(normalizeLinkedInAccountId("urn:li:organization:1"), undefined);
  assert.equal(campaignIdFromUrn("urn:li:sponsoredCampaign:123"), "123");
  assert.equal(campaignIdFromUrn(123), "123");
  assert.equal(campaignIdFromUrn("urn:li:sponsoredCreative:1"), undefined);
  assert.equal(campaignIdFromUrn(undefined), undefined);
  const config = parseLinkedInConfig({ LINKEDIN_ACCESS_TOKEN: "t", LINKEDIN_AD_ACCOUNT_IDS: "1" });
  assert.equal(config.baseUrl, "https://api.linkedin.com/rest");
  assert.equal(config.version, LINKEDIN_DEFAULT_VERSION);
  assert.throws(
    () => parseLinkedInConfig({ LINKEDIN_VERSION: "2024-01" }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.missing, ["LINKEDIN_ACCESS_TOKEN", "LINKEDIN_AD_ACCOUNT_IDS"]);
      assert.deepEqual(error.invalid.map((item) => item.variable), ["LINKEDIN_VERSION"]);
      return true;
    },
  );
});
