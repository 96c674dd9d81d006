/** The insights API in-process: every status code, validation, auth and tenancy. */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import postgres from "postgres";
import { auth, JWT_SECRET, KEY_A, KEY_B, metricRow, testApp } from "../support/test_app.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { parseBearerToken } from "../../handlers/auth.ts";
import { postgresDriver } from "../../lib/store/driver.ts";

async function json(response: Response) {
  return await response.json();
}

async function jwt(claims: Record<string, unknown>, expiresIn: string | number = "5m") {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

Deno.test("insights API", async (t) => {
  const { app, store, dispose } = await testApp();
  try {
    await store.upsert([
      metricRow({ ts: "2024-04-05T00:00:00Z" }),
      metricRow({ ts: "2024-04-06T00:00:00Z", cost: "25.01", revenue: "0.10" }),
      metricRow({ ts: "2024-04-22T00:00:00Z" }),
      metricRow({ platform: "meta", account_id: "act1", ts: "2024-04-10T00:00:00Z" }),
      metricRow({ tenant_id: "tenant-b", campaign_id: "cmp-b", ts: "2024-04-05T00:00:00Z" }),
    ]);
    const get = (path: string, key = KEY_A) => app.request(path, { headers: auth(key) });

    await t.step("the seed's request: platform alias, inclusive dates", async () => {
      const response = await get(
        "/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-20&platform=Google",
      );
      assert.equal(response.status, 200);
      const body = await json(response);
      assert.equal(body.campaign_id, "cmp-42");
      assert.equal(body.platform, "google");
      assert.equal(body.currency, "USD");
      assert.deepEqual(Object.keys(body.totals), [
        "impressions",
        "clicks",
        "conversions",
        "cost",
        "revenue",
        "ctr",
        "roas",
        "cpa",
        "cpc",
        "cpm",
        "cvr",
      ]);
      assert.equal(body.totals.impressions, 2000);
      assert.equal(body.totals.cost, 50.01);
      assert.equal(body.totals.revenue, 100.1);
      assert.equal(body.totals.ctr, 0.05);
      assert.equal(body.totals.roas, Number((100.1 / 50.01).toFixed(6)));
      assert.deepEqual(body.by_platform.map((p: { platform: string }) => p.platform), ["google"]);
      assert.equal(body.series, undefined);
    });

    await t.step("all platforms, lifetime, by_platform breakdown and a daily series", async () => {
      const body = await json(await get("/campaign/cmp-42/insights?granularity=day"));
      assert.equal(body.platform, null);
      assert.equal(body.from, "2024-04-05");
      assert.equal(body.to, "2024-04-22");
      assert.equal(body.totals.impressions, 4000);
      assert.deepEqual(
        body.by_platform.map((
          p: { platform: string; impressions: number },
        ) => [p.platform, p.impressions]),
        [["google", 3000], ["meta", 1000]],
      );
      assert.deepEqual(
        body.series.map((p: { bucket: string }) => p.bucket),
        ["2024-04-05", "2024-04-06", "2024-04-10", "2024-04-22"],
      );
      const weekly = await json(await get("/campaign/cmp-42/insights?granularity=week"));
      assert.deepEqual(weekly.series.map((p: { bucket: string }) => p.bucket), [
        "2024-04-01",
        "2024-04-08",
        "2024-04-22",
      ]);
    });

    await t.step(
      "an existing campaign with no rows in range: 200, zeros, null ratios",
      async () => {
        const response = await get("/campaign/cmp-42/insights?from=2023-01-01&to=2023-01-31");
        assert.equal(response.status, 200);
        const body = await json(response);
        assert.equal(body.totals.impressions, 0);
        assert.equal(body.totals.cost, 0);
        assert.equal(body.totals.ctr, null);
        assert.equal(body.totals.roas, null);
        assert.equal(body.currency, "USD");
      },
    );

    await t.step("time zones move day boundaries", async () => {
      // 2024-04-05T00:00Z is still April 4th in New York.
      const body = await json(
        await get("/campaign/cmp-42/insights?from=2024-04-05&to=2024-04-05&tz=America/New_York"),
      );
      assert.equal(
        body.totals.impressions,
        1000,
        "only the April 6 00:00Z row (April 5 evening in NY)",
      );
      const instants = await json(
        await get("/campaign/cmp-42/insights?from=2024-04-05T00:00:00Z&to=2024-04-06T00:00:00Z"),
      );
      assert.equal(instants.totals.impressions, 1000, "instant ranges are [from, to)");
    });

    await t.step("404 for a missing campaign and for another tenant's campaign alike", async () => {
      const missing = await get("/campaign/nope/insights");
      const foreign = await get("/campaign/cmp-b/insights");
      assert.equal(missing.status, 404);
      assert.equal(foreign.status, 404);
      assert.deepEqual(Object.keys(await json(foreign)), Object.keys(await json(missing)));
      const own = await get("/campaign/cmp-b/insights", KEY_B);
      assert.equal(own.status, 200);
      assert.equal((await json(own)).totals.impressions, 1000);
    });

    await t.step("bad input: 400 naming the field", async () => {
      const cases: [string, string][] = [
        ["/campaign/cmp-42/insights?from=2024-02-30", "from"],
        ["/campaign/cmp-42/insights?to=2024-13-01", "to"],
        ["/campaign/cmp-42/insights?from=2024-04-20&to=2024-04-01", "from"],
        ["/campaign/cmp-42/insights?platform=myspace", "platform"],
        ["/campaign/cmp-42/insights?granularity=minute", "granularity"],
        ["/campaign/cmp-42/insights?tz=Mars/Olympus", "tz"],
        [`/campaign/${"x".repeat(129)}/insights`, "id"],
        ["/campaigns?limit=0", "limit"],
        ["/campaigns?limit=101", "limit"],
        ["/campaigns?limit=ten", "limit"],
        ["/campaigns?cursor=garbage", "cursor"],
        ["/campaigns?sort=random", "sort"],
        ["/insights?group_by=minute", "group_by"],
        ["/insights?order_by=happiness&group_by=campaign", "order_by"],
        ["/insights?order_by=roas", "order_by"],
        ["/insights?from=2024-01-01&from=2024-02-01", "from"],
      ];
      for (const [path, field] of cases) {
        const response = await get(path);
        assert.equal(response.status, 400, path);
        const body = await json(response);
        assert.equal(body.field, field, path);
        assert.equal(typeof body.error, "string");
        assert.ok(body.error.length > 0);
      }
    });

    await t.step(
      "auth: 401 with WWW-Authenticate for missing, malformed, wrong, expired",
      async () => {
        const expired = await jwt(
          { tenant: "tenant-a", scope: "insights:read" },
          Math.floor(Date.now() / 1000) - 60,
        );
        const forged = await new SignJWT({ tenant: "tenant-a", scope: "insights:read" })
          .setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m")
          .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
        const noExp = await new SignJWT({ tenant: "tenant-a", scope: "insights:read" })
          .setProtectedHeader({ alg: "HS256" })
          .sign(new TextEncoder().encode(JWT_SECRET));
        const headers: (Record<string, string> | undefined)[] = [
          undefined,
          { Authorization: "Basic abc" },
          { Authorization: "Bearer" },
          auth("wrong-key-123456"),
          auth(expired),
          auth(forged),
          auth(noExp),
        ];
        for (const header of headers) {
          const response = await app.request("/campaigns", { headers: header });
          assert.equal(response.status, 401, JSON.stringify(header));
          assert.match(response.headers.get("WWW-Authenticate") ?? "", /^Bearer/);
          const body = await json(response);
          assert.ok(!JSON.stringify(body).includes("key-tenant"), "never echoes a key");
        }
        const expiredBody = await json(await app.request("/campaigns", { headers: auth(expired) }));
        assert.equal(expiredBody.error, "token expired");
      },
    );

    await t.step("the Bearer scheme name is case-insensitive (RFC 7235)", async () => {
      for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
        const response = await app.request("/campaigns", {
          headers: { Authorization: `${scheme} ${KEY_A}` },
        });
        assert.equal(response.status, 200, scheme);
      }
      assert.equal(parseBearerToken(`  bearer   ${KEY_A} `), KEY_A);
      assert.equal(parseBearerToken(`Bearer ${KEY_A} extra`), undefined);
      assert.equal(parseBearerToken(`Basic ${KEY_A}`), undefined);
      assert.equal(parseBearerToken(undefined), undefined);
    });

    await t.step("JWTs carry tenant and scope; a missing scope is 403", async () => {
      const reader = await jwt({ tenant: "tenant-b", scope: "insights:read" });
      const ok = await app.request("/campaign/cmp-b/insights", { headers: auth(reader) });
      assert.equal(ok.status, 200);
      const crossTenant = await app.request("/campaign/cmp-42/insights", { headers: auth(reader) });
      assert.equal(crossTenant.status, 404);
      const writerOnly = await jwt({ tenant: "tenant-b", scope: "metrics:write" });
      const forbidden = await app.request("/campaigns", { headers: auth(writerOnly) });
      assert.equal(forbidden.status, 403);
      assert.equal((await json(forbidden)).field, "scope");
    });

    await t.step("campaign listing with totals, search and pages", async () => {
      const body = await json(await get("/campaigns?sort=spend"));
      assert.deepEqual(
        body.campaigns.map((
          c: { platform: string; campaign_id: string },
        ) => [c.platform, c.campaign_id]),
        [["google", "cmp-42"], ["meta", "cmp-42"]],
      );
      assert.equal(body.campaigns[0].totals.cost, 75.01);
      assert.equal(body.campaigns[0].name, "Spring Sale");
      const first = await json(await get("/campaigns?limit=1"));
      assert.equal(first.campaigns.length, 1);
      assert.ok(first.next_cursor);
      const second = await json(await get(`/campaigns?limit=1&cursor=${first.next_cursor}`));
      assert.equal(second.campaigns.length, 1);
      assert.equal(second.next_cursor, null);
      assert.notDeepEqual(second.campaigns[0], first.campaigns[0]);
      const search = await json(await get("/campaigns?q=spring&platform=facebook"));
      assert.deepEqual(search.campaigns.map((c: { platform: string }) => c.platform), ["meta"]);
    });

    await t.step("insights across campaigns with groups and ordering", async () => {
      const byPlatform = await json(
        await get("/insights?group_by=platform&order_by=impressions&order=asc"),
      );
      assert.equal(byPlatform.totals.impressions, 4000);
      assert.deepEqual(byPlatform.groups.map((g: { platform: string }) => g.platform), [
        "meta",
        "google",
      ]);
      const byDay = await json(await get("/insights?group_by=day&from=2024-04-01&to=2024-04-07"));
      assert.deepEqual(byDay.groups.map((g: { bucket: string }) => g.bucket), [
        "2024-04-05",
        "2024-04-06",
      ]);
      const byCampaign = await json(await get("/insights?group_by=campaign&order_by=roas&limit=1"));
      assert.equal(byCampaign.groups.length, 1);
      assert.equal(byCampaign.groups[0].campaign_id, "cmp-42");
      const otherTenant = await json(await get("/insights", KEY_B));
      assert.equal(otherTenant.totals.impressions, 1000);
    });

    await t.step("public probes, docs and unknown routes", async () => {
      assert.equal((await app.request("/healthz")).status, 200);
      const ready = await app.request("/readyz");
      assert.equal(ready.status, 200);
      assert.equal((await json(ready)).checks.database, "ok");
      const spec = await json(await app.request("/openapi.json"));
      assert.equal(spec.openapi, "3.1.0");
      const params = spec.paths["/campaign/{id}/insights"].get.parameters.map((
        p: { name: string },
      ) => p.name);
      assert.deepEqual(params, [
        "id",
        "from",
        "to",
        "platform",
        "granularity",
        "tz",
        "currency",
        "source_currency",
      ]);
      const docs = await app.request("/docs");
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /openapi\.json/);
      const unknown = await get("/nowhere");
      assert.equal(unknown.status, 404);
      assert.match((await json(unknown)).error, /no route/);
      assert.equal((await app.request("/metrics")).status, 401, "metrics need a token");
      assert.equal((await get("/metrics")).status, 403, "and an operator's, not a tenant's");
      const operator = await jwt({ tenant: "ops", scope: "ops:read" });
      const metrics = await (await get("/metrics", operator)).text();
      assert.match(
        metrics,
        /http_requests_total\{method="GET",route="\/campaign\/:id\/insights",status="200"\}/,
      );
      assert.match(metrics, /http_request_duration_seconds_bucket/);
    });

    await t.step("every response has a request id and secure headers", async () => {
      const response = await get("/campaigns");
      assert.ok(response.headers.get("X-Request-Id"));
      assert.equal(response.headers.get("X-Content-Type-Options"), "nosniff");
      await response.body?.cancel();
    });
  } finally {
    await dispose();
  }
});

Deno.test("readyz answers 503 naming a required dependency that is down", async () => {
  const { app, dispose } = await testApp({
    overrides: {
      readiness: [
        { name: "database", check: () => Promise.reject(new Error("ECONNREFUSED")) },
        { name: "cache", optional: true, check: () => Promise.resolve() },
      ],
    },
  });
  try {
    const response = await app.request("/readyz");
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.match(body.error, /database/);
    assert.deepEqual(body.checks, { database: "unavailable", cache: "ok" });
  } finally {
    await dispose();
  }
});

Deno.test("readyz stays 200 'degraded' while only the cache is down (reads still answer)", async () => {
  const { app, dispose } = await testApp({
    overrides: {
      readiness: [
        { name: "database", check: () => Promise.resolve() },
        { name: "cache", optional: true, check: () => Promise.reject(new Error("ECONNREFUSED")) },
      ],
    },
  });
  try {
    const response = await app.request("/readyz");
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.status, "degraded");
    assert.match(body.error, /cache/);
    assert.deepEqual(body.checks, { database: "ok", cache: "unavailable" });
  } finally {
    await dispose();
  }
});

Deno.test("a database outage answers 503 with Retry-After and no internals", async () => {
  // A real driver against a port nothing listens on: the real ECONNREFUSED path.
  const unreachable = new SqlMetricsStore(
    postgresDriver(
      postgres("postgres://postgres@127.0.0.1:1/test", { connect_timeout: 2, max: 1 }),
    ),
  );
  const { app, dispose } = await testApp({ overrides: { store: unreachable } });
  try {
    const response = await app.request("/campaign/cmp-42/insights", { headers: auth(KEY_A) });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("Retry-After"), "5");
    const text = await response.text();
    assert.ok(!text.includes("127.0.0.1") && !text.includes("ECONNREFUSED"), text);
  } finally {
    await unreachable.close();
    await dispose();
  }
});

Deno.test("an unexpected error is a 500 with a request id, never SQL or a stack", async () => {
  const base = await testApp();
  const broken = Object.create(base.store, {
    totals: {
      value: () =>
        Promise.reject(new Error('syntax error at or near "SELECT" in SELECT * FROM secret')),
    },
  });
  const { app, dispose } = await testApp({ db: base.db, overrides: { store: broken } });
  try {
    await base.store.upsert([metricRow()]);
    const response = await app.request("/campaign/cmp-42/insights", { headers: auth(KEY_A) });
    assert.equal(response.status, 500);
    const body = await response.json();
    assert.deepEqual(Object.keys(body).sort(), ["error", "request_id"]);
    assert.equal(body.request_id, response.headers.get("X-Request-Id"));
    assert.ok(!JSON.stringify(body).includes("SELECT"));
  } finally {
    await dispose();
  }
});
