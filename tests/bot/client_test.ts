/**
 * Both AnalyticsClient implementations: HTTP against the API on a real socket, and
 * in-process through `app.request`; error mapping; `latest` and name resolution; the
 * per-tenant catalog index cache.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  type AnalyticsClient,
  AnalyticsError,
  CatalogIndexCache,
  createHttpAnalyticsClient,
  createInProcessAnalyticsClient,
  memoryIndexFactory,
} from "../../lib/bot/client.ts";
import { resolveWithSearch } from "../../lib/bot/resolve.ts";
import { answerPrompt } from "../../lib/bot/answer.ts";
import { CampaignResolver, type CatalogEntry } from "../../lib/bot/resolve.ts";
import { VectorIndex } from "../../lib/bot/vector_search.ts";
import { JWT_SECRET, KEY_A, KEY_B, metricRow } from "../support/test_app.ts";
import { NOW, seededApp } from "./fixtures.ts";

/** Serves `fetch` on a free port for the duration of `run`. */
async function withServer<T>(
  fetch: (request: Request) => Response | Promise<Response>,
  run: (base: string) => Promise<T>,
): Promise<T> {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, fetch);
  try {
    return await run(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

async function rejection(promise: Promise<unknown>): Promise<AnalyticsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AnalyticsError, `not an AnalyticsError: ${error}`);
    return error;
  }
  throw new Error("expected a rejection");
}

async function jwt(claims: Record<string, unknown>) {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt()
    .setExpirationTime("5m").sign(new TextEncoder().encode(JWT_SECRET));
}

async function exercise(client: AnalyticsClient) {
  const insights = await client.insights({
    from: "2024-04-15",
    to: "2024-04-21",
    platform: ["google"],
  });
  const campaign = await client.campaignInsights("cmp-42", { granularity: "week" });
  const page = await client.campaigns({ platform: ["meta"], limit: 1 });
  const latest = await client.latestCampaign([]);
  const latestMeta = await client.latestCampaign(["meta"]);
  const typo = await client.resolveCampaign("blck fridy");
  const ambiguous = await client.resolveCampaign("spring promo");
  const narrowed = await client.resolveCampaign("spring promo prospecting", { platform: "meta" });
  return { insights, campaign, page, latest, latestMeta, typo, ambiguous, narrowed };
}

Deno.test("the HTTP and in-process clients read the same answers", async (t) => {
  const { app, dispose } = await seededApp();
  try {
    await withServer(app.fetch, async (base) => {
      const http = createHttpAnalyticsClient({ baseUrl: base, token: KEY_A });
      const local = createInProcessAnalyticsClient({
        request: (r) => Promise.resolve(app.request(r)),
        token: KEY_A,
        tenant: "tenant-a",
      });
      const [overHttp, inProcess] = [await exercise(http), await exercise(local)];

      await t.step("same bodies both ways", () => {
        assert.deepEqual(overHttp, inProcess);
        assert.deepEqual(http.requests, local.requests);
      });

      await t.step("insights, campaign insights and campaigns", () => {
        assert.equal(overHttp.insights.from, "2024-04-15");
        assert.deepEqual(overHttp.insights.platforms, ["google"]);
        assert.equal(overHttp.insights.totals.impressions, 7 * 1000 + 37 * (15 + 21) * 7 / 2);
        assert.equal(overHttp.campaign.campaign_name, "Spring Sale");
        assert.ok(overHttp.campaign.series && overHttp.campaign.series.length > 1);
        assert.equal(overHttp.page.campaigns.length, 1);
        assert.ok(overHttp.page.next_cursor);
      });

      await t.step("latest through /campaigns?sort=latest", () => {
        assert.equal(overHttp.latest?.campaign_id, "t-1");
        assert.equal(overHttp.latestMeta?.campaign_id, "m-2");
        assert.ok(http.requests.includes("/campaigns?sort=latest&limit=1"));
        assert.ok(http.requests.includes("/campaigns?platform=meta&sort=latest&limit=1"));
      });

      await t.step("names through the catalog, with typos and ambiguity", () => {
        assert.equal(overHttp.typo.kind, "match");
        if (overHttp.typo.kind === "match") assert.equal(overHttp.typo.campaign.campaign_id, "t-1");
        assert.equal(overHttp.ambiguous.kind, "ambiguous");
        assert.equal(overHttp.narrowed.kind, "match");
        if (overHttp.narrowed.kind === "match") {
          assert.equal(overHttp.narrowed.campaign.campaign_id, "m-2");
        }
        // The catalog is read once per client, however many names are resolved.
        assert.equal(
          http.requests.filter((p) => p.startsWith("/campaigns?sort=latest&limit=100")).length,
          1,
        );
      });

      await t.step("a whole answer is the same over HTTP and in-process", async () => {
        for (
          const prompt of [
            "roas for the blck fridy campaign",
            "top 3 campaigns by spend this month",
          ]
        ) {
          const a = await answerPrompt(prompt, {
            client: createHttpAnalyticsClient({ baseUrl: base, token: KEY_A }),
            now: NOW,
          });
          const b = await answerPrompt(prompt, {
            client: createInProcessAnalyticsClient({
              request: (r) => Promise.resolve(app.request(r)),
              token: KEY_A,
            }),
            now: NOW,
          });
          assert.equal(a.reply, b.reply);
          assert.deepEqual(a.data, b.data);
        }
      });

      await t.step("tenancy: tenant B's token never sees tenant A's campaigns", async () => {
        const b = createHttpAnalyticsClient({ baseUrl: base, token: KEY_B });
        assert.equal((await b.latestCampaign())?.campaign_id, "b-7");
        assert.equal((await b.resolveCampaign("spring sale")).kind, "none");
        const missing = await rejection(b.campaignInsights("cmp-42"));
        assert.equal(missing.kind, "not_found");
        assert.equal(missing.status, 404);
      });

      await t.step("errors: 401, 403, 404 and 400 are classified", async () => {
        const wrong = await rejection(
          createHttpAnalyticsClient({ baseUrl: base, token: "not-a-key-at-all" }).insights(),
        );
        assert.deepEqual([wrong.kind, wrong.status], ["unauthorized", 401]);
        const writeOnly = await jwt({ tenant: "tenant-a", scope: "metrics:write" });
        const forbidden = await rejection(
          createHttpAnalyticsClient({ baseUrl: base, token: writeOnly }).insights(),
        );
        assert.deepEqual([forbidden.kind, forbidden.status], ["forbidden", 403]);
        assert.match(forbidden.message, /insights:read/);
        const bad = await rejection(http.insights({ from: "2024-02-30" }));
        assert.deepEqual([bad.kind, bad.status, bad.field], ["bad_request", 400, "from"]);
      });
    });
  } finally {
    await dispose();
  }
});

Deno.test("HTTP client: an API that is down, slow or broken is reported honestly", async (t) => {
  await t.step("5xx → unavailable", async () => {
    await withServer(
      () => Response.json({ error: "database unavailable, retry later" }, { status: 503 }),
      async (base) => {
        const error = await rejection(
          createHttpAnalyticsClient({ baseUrl: base, token: "k" }).insights(),
        );
        assert.deepEqual([error.kind, error.status], ["unavailable", 503]);
        assert.equal(error.message, "database unavailable, retry later");
      },
    );
  });

  await t.step("nothing listening → unavailable", async () => {
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const error = await rejection(
      createHttpAnalyticsClient({ baseUrl: `http://127.0.0.1:${port}`, token: "k" }).insights(),
    );
    assert.equal(error.kind, "unavailable");
    assert.equal(error.status, null);
  });

  await t.step("too slow → timeout", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await withServer(async () => {
      await held;
      return Response.json({});
    }, async (base) => {
      const started = performance.now();
      const error = await rejection(
        createHttpAnalyticsClient({ baseUrl: base, token: "k", timeoutMs: 150 }).insights(),
      );
      release();
      assert.equal(error.kind, "timeout");
      assert.ok(performance.now() - started < 2000);
    });
  });

  await t.step("not JSON, or not the expected shape → invalid_response", async () => {
    const client = (body: string) =>
      createHttpAnalyticsClient({
        baseUrl: "http://api.invalid",
        token: "k",
        fetch: () =>
          Promise.resolve(new Response(body, { headers: { "Content-Type": "application/json" } })),
      });
    assert.equal((await rejection(client("<html>").insights())).kind, "invalid_response");
    assert.equal((await rejection(client('{"totals": 3}').insights())).kind, "invalid_response");
  });

  await t.step("the caller's token is forwarded; a base path is kept", async () => {
    const seen: Request[] = [];
    const client = createHttpAnalyticsClient({
      baseUrl: "https://analytics.example/api/v1",
      token: "caller-token-123",
      fetch: (request) => {
        seen.push(request);
        return Promise.resolve(Response.json({ campaigns: [], next_cursor: null }));
      },
    });
    assert.equal(await client.latestCampaign(["google"]), null);
    assert.equal(
      seen[0].url,
      "https://analytics.example/api/v1/campaigns?platform=google&sort=latest&limit=1",
    );
    assert.equal(seen[0].headers.get("Authorization"), "Bearer caller-token-123");
  });
});

Deno.test("the catalog index is cached per tenant and rebuilt when the catalog changes", async () => {
  const { app, store, dispose } = await seededApp();
  try {
    const cache = new CatalogIndexCache();
    const client = (key: string, tenant: string) =>
      createInProcessAnalyticsClient({
        request: (r) => Promise.resolve(app.request(r)),
        token: key,
        tenant,
        catalogCache: cache,
      });
    await client(KEY_A, "tenant-a").resolveCampaign("spring sale");
    await client(KEY_A, "tenant-a").resolveCampaign("black friday");
    assert.equal(cache.builds, 1, "same catalog, same index");
    await client(KEY_B, "tenant-b").resolveCampaign("winter");
    assert.equal(cache.builds, 2, "another tenant, its own index");
    await store.upsert([metricRow({ campaign_id: "cmp-77", campaign_name: "Summer Blowout" })]);
    const resolution = await client(KEY_A, "tenant-a").resolveCampaign("summer blowout");
    assert.equal(cache.builds, 3, "a new campaign rebuilds tenant A's index");
    assert.equal(resolution.kind, "match");
    await client(KEY_B, "tenant-b").resolveCampaign("winter");
    assert.equal(cache.builds, 3, "tenant B's catalog did not change");
  } finally {
    await dispose();
  }
});

Deno.test("resolution over the VectorSearch interface agrees with CampaignResolver", async () => {
  const catalog: CatalogEntry[] = [
    { campaign_id: "c1", name: "Spring Promo 2024 – Retargeting", platform: "meta" },
    { campaign_id: "c2", name: "Summer Sale", platform: "google" },
    { campaign_id: "c3", name: "Black Friday Blitz", platform: "tiktok" },
    { campaign_id: "c4", name: "Brand Awareness Q1", platform: "linkedin" },
    { campaign_id: "c5", name: "Retargeting - Cart Abandoners", platform: "google" },
    { campaign_id: "c6", name: "Always-on Search", platform: "google" },
    { campaign_id: "c7", name: "Spring Promo 2024 – Prospecting", platform: "meta" },
  ];
  const index = new VectorIndex<CatalogEntry>();
  catalog.forEach((entry, i) => index.add(String(i), entry.name, entry));
  const resolver = new CampaignResolver(catalog);
  const names = [
    "spring promo",
    "sprng promo retargeting",
    "blck fridy",
    "summr sale",
    "the search campaign",
    "awareness",
    "retargeting",
    "C5",
    "holiday",
    "spring prospecting",
  ];
  const summary = (
    r: {
      kind: string;
      campaign?: CatalogEntry;
      candidates?: readonly { campaign: CatalogEntry }[];
    },
  ) =>
    r.kind === "match"
      ? `match:${r.campaign!.campaign_id}`
      : r.kind === "ambiguous"
      ? `ambiguous:${r.candidates!.map((c) => c.campaign.campaign_id).sort()}`
      : "none";
  for (const name of names) {
    for (const platform of [undefined, "meta", "google"] as const) {
      assert.equal(
        summary(await resolveWithSearch(name, catalog, index, { platform })),
        summary(resolver.resolve(name, { platform })),
        `${name} (${platform})`,
      );
    }
  }
  // The default factory builds exactly that in-memory index.
  const built = await memoryIndexFactory(
    "k",
    catalog.map((entry) => ({ ...entry, campaign: {} as never })),
  );
  assert.equal((await built.search("black friday", 1))[0].payload.campaign_id, "c3");
});
