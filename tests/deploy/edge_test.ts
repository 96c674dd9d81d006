/**
 * The edge entry point (runtime/edge.ts), called directly with `Request` objects as an
 * edge runtime would: configured only through an environment record, against the real
 * PostgreSQL (a fresh migrated schema) and a fake Upstash REST endpoint in front of the
 * real Redis.
 */
import assert from "node:assert/strict";
import edge, { createEdgeHandler, type EdgeHandler } from "../../runtime/edge.ts";
import { type Logger, silentLogger } from "../../lib/log.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { startFakeUpstash } from "../fakes/upstash_server.ts";
import {
  postgresDatabase,
  postgresMissing,
  redisMissing,
  TEST_REDIS_URL,
  uniqueName,
} from "../support/databases.ts";
import { KEY_A, KEY_B, metricRow } from "../support/test_app.ts";
import { deleteRedisKeys } from "../support/redis.ts";

const BASE = "https://edge.example";
const INSIGHTS = "/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-20&platform=Google";
const API_KEY = `tenant-a:${KEY_A},tenant-b:${KEY_B}`;

function get(path: string, key?: string): Request {
  return new Request(BASE + path, {
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return await response.json() as Record<string, unknown>;
}

interface Totals {
  impressions: number;
  clicks: number;
  cost: number;
  revenue: number;
}

async function totalsOf(handler: EdgeHandler, key = KEY_A): Promise<Totals> {
  const response = await handler.fetch(get(INSIGHTS, key));
  assert.equal(response.status, 200);
  return (await json(response)).totals as Totals;
}

/** A logger that keeps lines, to check what a misconfigured handler says. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message, fields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    error: (message, fields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    child: () => logger,
  };
  return logger;
}

Deno.test({
  name: "edge: PostgreSQL + Upstash from env: healthz, auth, insights, campaigns, push then read",
  ignore: postgresMissing || redisMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const db = await postgresDatabase();
    const upstash = await startFakeUpstash({ redisUrl: TEST_REDIS_URL! });
    const prefix = `${uniqueName("edge")}:`;
    const handler = createEdgeHandler({
      DATABASE_URL: db.url,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      CACHE_KEY_PREFIX: prefix,
      API_KEY,
      LOG_LEVEL: "error",
    }, { logger: silentLogger });
    try {
      const store = new SqlMetricsStore(db.driver);
      const stored = await store.upsert([
        metricRow(),
        metricRow({ ts: "2024-04-10T00:00:00Z", impressions: 3000, clicks: 90, cost: "75.50" }),
        metricRow({ platform: "meta", account_id: "act_9", impressions: 999 }),
      ]);
      assert.equal(stored.accepted, 3);

      await t.step("/healthz and /readyz answer without a token", async () => {
        const health = await handler.fetch(get("/healthz"));
        assert.equal(health.status, 200);
        await health.body?.cancel();
        const ready = await handler.fetch(get("/readyz"));
        assert.equal(ready.status, 200);
        assert.deepEqual((await json(ready)).checks, { database: "ok", cache: "ok" });
      });

      await t.step("no token, a wrong token: 401 with WWW-Authenticate", async () => {
        for (const key of [undefined, "not-a-key-at-all"]) {
          const response = await handler.fetch(get(INSIGHTS, key));
          assert.equal(response.status, 401);
          assert.match(response.headers.get("WWW-Authenticate") ?? "", /^Bearer/);
          await response.body?.cancel();
        }
      });

      await t.step("insights: the stored rows, the same answer again from the cache", async () => {
        const before = upstash.requests;
        const first = await totalsOf(handler);
        assert.equal(first.impressions, 4000);
        assert.equal(first.clicks, 140);
        assert.equal(first.cost, 100.5);
        assert.ok(upstash.requests > before, "the cache is reached over Upstash REST");
        assert.deepEqual(await totalsOf(handler), first);
      });

      await t.step("another tenant sees nothing of it (404)", async () => {
        const response = await handler.fetch(get(INSIGHTS, KEY_B));
        assert.equal(response.status, 404);
        await response.body?.cancel();
      });

      await t.step("campaigns list", async () => {
        const response = await handler.fetch(get("/campaigns?platform=google", KEY_A));
        assert.equal(response.status, 200);
        const { campaigns } = await json(response) as { campaigns: { campaign_id: string }[] };
        assert.deepEqual(campaigns.map((c) => c.campaign_id), ["cmp-42"]);
      });

      await t.step("POST /ingest/rows, then the next read shows the new numbers", async () => {
        const push = await handler.fetch(
          new Request(`${BASE}/ingest/rows`, {
            method: "POST",
            headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
            body: JSON.stringify([
              // tenant_id comes from the token when a row leaves it out
              {
                ...metricRow({ ts: "2024-04-12T00:00:00Z", impressions: 500, clicks: 10 }),
                tenant_id: undefined,
                cost: "9.50",
                revenue: "20.00",
              },
              { campaign_id: "broken" },
            ]),
          }),
        );
        assert.equal(push.status, 200);
        const result = await json(push) as { accepted: number; rejected: { index: number }[] };
        assert.equal(result.accepted, 1);
        assert.deepEqual(result.rejected.map((r) => r.index), [1]);

        const after = await totalsOf(handler);
        assert.equal(after.impressions, 4500);
        assert.equal(after.clicks, 150);
        assert.equal(after.cost, 110);
      });

      await t.step("the push endpoint needs a token like everything else", async () => {
        const response = await handler.fetch(
          new Request(`${BASE}/ingest/rows`, { method: "POST", body: "[]" }),
        );
        assert.equal(response.status, 401);
        await response.body?.cancel();
      });
    } finally {
      await handler.close();
      await upstash.close();
      await deleteRedisKeys(prefix);
      await db.dispose();
    }
  },
});

Deno.test({
  name: "edge: without Upstash every read goes to the database (no per-isolate staleness)",
  ignore: postgresMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await postgresDatabase();
    // Two isolates over one database: a write through one is seen by the other at once.
    const env = { DATABASE_URL: db.url, API_KEY, LOG_LEVEL: "error" };
    const one = createEdgeHandler(env, { logger: silentLogger });
    const two = createEdgeHandler(env, { logger: silentLogger });
    try {
      await new SqlMetricsStore(db.driver).upsert([metricRow()]);
      assert.equal((await totalsOf(one)).impressions, 1000);
      assert.equal((await totalsOf(two)).impressions, 1000);
      const push = await one.fetch(
        new Request(`${BASE}/ingest/rows`, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify([metricRow({ ts: "2024-04-07T00:00:00Z", impressions: 1 })]),
        }),
      );
      assert.equal(push.status, 200);
      await push.body?.cancel();
      assert.equal((await totalsOf(two)).impressions, 1001);
      const ready = await two.fetch(get("/readyz"));
      assert.deepEqual((await json(ready)).checks, { database: "ok" });
    } finally {
      await one.close();
      await two.close();
      await db.dispose();
    }
  },
});

Deno.test("edge: a misconfigured environment answers 500 and says why in the log", async () => {
  const cases: { env: Record<string, string>; names: string[] }[] = [
    { env: { API_KEY }, names: ["DATABASE_URL"] },
    { env: { DATABASE_URL: "postgres://db.invalid/x" }, names: ["API_KEY", "JWT_SECRET"] },
    {
      env: { DATABASE_URL: "postgres://db.invalid/x", API_KEY, REDIS_URL: "redis://r:6379" },
      names: ["REDIS_URL", "UPSTASH_REDIS_REST_URL"],
    },
    {
      env: {
        DATABASE_URL: "postgres://db.invalid/x",
        API_KEY,
        UPSTASH_REDIS_REST_URL: "https://u.example",
      },
      names: ["UPSTASH_REDIS_REST_TOKEN"],
    },
    {
      // Every problem at once, the edge's own and the settings' alike.
      env: { REDIS_URL: "redis://r:6379", CACHE_TTL_SECONDS: "soon" },
      names: ["DATABASE_URL", "REDIS_URL", "API_KEY", "CACHE_TTL_SECONDS"],
    },
  ];
  for (const { env, names } of cases) {
    const lines: string[] = [];
    const handler = createEdgeHandler(env, { logger: recordingLogger(lines) });
    for (const path of ["/healthz", INSIGHTS]) {
      const response = await handler.fetch(get(path, KEY_A));
      assert.equal(response.status, 500, `${path} with ${Object.keys(env)}`);
      assert.deepEqual(await response.json(), { error: "server not configured" });
    }
    assert.equal(lines.length, 1, "logged once, not per request");
    for (const name of names) assert.match(lines[0], new RegExp(name));
    for (const value of Object.values(env)) {
      assert.ok(!lines[0].includes(value), "the log names variables, never their values");
    }
    await handler.close();
  }
});

Deno.test("edge: a standard default export; the module graph stays edge-safe", async () => {
  assert.equal(typeof edge.fetch, "function");
  const source = await Deno.readTextFile(new URL("../../runtime/edge.ts", import.meta.url));
  assert.doesNotMatch(source, /\bDeno\.(?!env\b)/, "no Deno APIs beyond reading the env");
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../runtime/edge.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  });
  const output = await info.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const specifiers = graph.modules.map((m) => m.specifier);
  const local = specifiers.filter((s) => s.startsWith("file:"));
  assert.ok(
    local.some((s) => s.endsWith("/handlers/app_factory.ts")),
    "serves the container's app",
  );
  for (const forbidden of ["/main.ts", "/sql/", "/ingest/cron.ts", "/runtime/cache_wiring.ts"]) {
    assert.deepEqual(local.filter((s) => s.includes(forbidden)), [], `imports ${forbidden}`);
  }
  // Shared wiring (runtime/compose_app.ts, runtime/postgres.ts) is welcome; Deno-only APIs are not.
  for (const specifier of local.filter((s) => !s.endsWith("/runtime/edge.ts"))) {
    const code = (await Deno.readTextFile(new URL(specifier)))
      .replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\bDeno\.[a-z]/, `${specifier} uses a Deno API`);
  }
  assert.ok(
    !specifiers.some((s) => s.includes("@redis/client")),
    "no TCP Redis client at the edge",
  );
});
