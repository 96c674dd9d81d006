/**
 * The fast path of cached insights reads (handlers/fast_path.ts) answers exactly as the
 * Hono path: the same URLs through two servers over the same store and cache, one with
 * the fast path and one without, compared on status, body and headers (the request id by
 * format), access log lines and request metrics. Then the freshness rule through the
 * fast path with Redis: a write committed on another replica (another cache client) is
 * seen by the very next read, even while an earlier read is still in flight.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { CachedReader } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { redisCache, type RedisCommandClient } from "../../lib/cache/redis.ts";
import { createLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { AppConfigSchema } from "../../lib/config.ts";
import { createFastPath, SECURITY_HEADERS, withFastPath } from "../../handlers/fast_path.ts";
import { createSessions } from "../../handlers/session.ts";
import { createRedisClient } from "../../runtime/cache_wiring.ts";
import { redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import { deleteKeysWith } from "../support/redis.ts";
import { auth, JWT_SECRET, KEY_A, KEY_B, metricRow, testApp } from "../support/test_app.ts";
import { pgliteDatabase } from "../support/databases.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function jwt(claims: Record<string, unknown>) {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));
}

interface Answer {
  status: number;
  body: string;
  headers: [string, string][];
  requestId: string | null;
}

async function answer(response: Response): Promise<Answer> {
  const body = await response.text();
  const headers = [...response.headers].filter(([name]) =>
    name !== "x-request-id" && name !== "date"
  );
  return {
    status: response.status,
    body,
    headers,
    requestId: response.headers.get("x-request-id"),
  };
}

/** A server over `handler` on a free port; `hono` counts what reached Hono. */
function serve(handler: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler);
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

/** Access log lines without the per-request values (time, request id, duration). */
function stable(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => {
    const { time: _t, request_id: _r, ms: _m, ...rest } = JSON.parse(line);
    return rest;
  });
}

/** The request counters and latency counts of a registry, as rendered for Prometheus. */
function requestMetrics(registry: Registry): string[] {
  return registry.render().split("\n").filter((line) =>
    line.startsWith("http_requests_total{") ||
    line.startsWith("http_request_duration_seconds_count")
  ).sort();
}

Deno.test("the fast path answers exactly as the Hono path", async (t) => {
  const db = await pgliteDatabase();
  const reader = new CachedReader({ cache: new MemoryCache() });
  const sessions = createSessions({ secret: "test-session-material" });
  const lines = { on: [] as string[], off: [] as string[] };
  const registries = { on: new Registry(), off: new Registry() };
  const parts = (side: "on" | "off") => ({
    cache: reader,
    db,
    overrides: {
      sessions,
      telemetry: registries[side],
      logger: createLogger({ write: (line) => lines[side].push(line) }),
    },
  });
  const on = await testApp(parts("on"));
  const off = await testApp(parts("off"));
  let reachedHono = 0;
  const honoOn = (request: Request) => {
    reachedHono++;
    return on.app.fetch(request);
  };
  const servers = {
    on: serve(withFastPath(on.deps, honoOn)),
    off: serve((request) => off.app.fetch(request)),
  };
  const store = on.store;
  try {
    await store.upsert([
      metricRow({ ts: "2024-04-05T00:00:00Z" }),
      metricRow({ ts: "2024-04-06T00:00:00Z", cost: "25.01", revenue: "0.10" }),
      metricRow({ platform: "meta", account_id: "act1", ts: "2024-04-10T00:00:00Z" }),
      metricRow({ tenant_id: "tenant-b", campaign_id: "cmp-b", ts: "2024-04-05T00:00:00Z" }),
    ]);
    const reading = await jwt({ tenant: "tenant-a", scope: "insights:read" });
    const writing = await jwt({ tenant: "tenant-a", scope: "metrics:write" });
    const session = (await sessions.issue({
      tenant: "tenant-a",
      scopes: new Set(["insights:read"]),
      kind: "api_key",
    })).token;
    const ask = async (side: "on" | "off", path: string, init: RequestInit = {}) =>
      await answer(await fetch(`${servers[side].url}${path}`, init));
    /**
     * Asks both servers, each first on a miss and then on a hit where the path caches,
     * and compares everything; returns the fast path's answer and whether Hono saw it.
     */
    const same = async (path: string, init: RequestInit = {}) => {
      const answers: Answer[] = [];
      let fellThrough = 0;
      for (const order of [["on", "off"], ["off", "on"]] as const) {
        await reader.bumpDataVersion("tenant-a"); // the first of each pair is a miss
        await reader.bumpDataVersion("tenant-b");
        for (const side of order) {
          const before = reachedHono;
          answers.push(await ask(side, path, init));
          if (side === "on") fellThrough += reachedHono - before;
        }
      }
      for (const other of answers.slice(1)) {
        assert.equal(other.status, answers[0].status, path);
        assert.equal(other.body, answers[0].body, path);
        assert.deepEqual(other.headers, answers[0].headers, path);
      }
      const sent = new Headers(init.headers).get("x-request-id");
      // Present on both or on neither (a 401 built by the auth middleware has none).
      const withId = answers.filter(({ requestId }) => requestId !== null).length;
      assert.ok(withId === 0 || withId === answers.length, `${path}: request id on some only`);
      for (const { requestId } of answers) {
        if (requestId === null) continue;
        if (sent && /^[\w\-=]{1,255}$/.test(sent)) assert.equal(requestId, sent);
        else assert.match(requestId, UUID);
      }
      return { answer: answers[0], fast: fellThrough === 0 };
    };

    await t.step("hits and misses of both routes: the fast path answers them", async () => {
      for (
        const path of [
          "/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-30",
          "/campaign/cmp-42/insights?platform=google&granularity=day",
          "/campaign/cmp-42/insights",
          "/insights?group_by=platform&from=2024-04-01&to=2024-04-30",
          "/insights",
          "/insights?group_by=campaign&order_by=roas&limit=5",
        ]
      ) {
        const { answer, fast } = await same(path, { headers: auth(KEY_A) });
        assert.equal(answer.status, 200, path);
        assert.ok(fast, `${path}: answered by the fast path`);
        for (const [name, value] of SECURITY_HEADERS) {
          assert.ok(answer.headers.some(([n, v]) => n === name && v === value), name);
        }
        assert.ok(
          answer.headers.some(([n, v]) => n === "content-type" && v === "application/json"),
        );
      }
      const jwtRead = await same("/campaign/cmp-42/insights", { headers: auth(reading) });
      assert.equal(jwtRead.answer.status, 200);
      assert.ok(jwtRead.fast, "a JWT with the scope: fast path");
    });

    await t.step("request ids: a client's valid id is echoed, others replaced", async () => {
      for (const id of ["trace-0001", "bad id!", "x".repeat(256)]) {
        const { fast } = await same("/insights", {
          headers: { ...auth(KEY_A), "X-Request-Id": id },
        });
        assert.ok(fast);
      }
    });

    await t.step("conditional requests: no ETag on these routes, 200 either way", async () => {
      const { answer, fast } = await same("/insights", {
        headers: { ...auth(KEY_A), "If-None-Match": '"anything"' },
      });
      assert.equal(answer.status, 200);
      assert.ok(!answer.headers.some(([name]) => name === "etag"));
      assert.ok(fast);
    });

    await t.step("bad parameters: the same 400 naming the field (through Hono)", async () => {
      const cases: [string, string][] = [
        ["/campaign/cmp-42/insights?from=yesterday", "from"],
        ["/campaign/cmp-42/insights?platform=myspace", "platform"],
        ["/campaign/cmp-42/insights?from=2024-04-30&to=2024-04-01", "from"],
        ["/campaign/cmp-42/insights?tz=Mars/Base", "tz"],
        ["/campaign/cmp-42/insights?currency=EUR", "currency"],
        ["/insights?order_by=roas", "order_by"],
        ["/insights?from=2024-04-01&from=2024-04-02", "from"],
        ["/insights?limit=0x10&group_by=platform", "limit"],
        [`/campaign/${"x".repeat(129)}/insights`, "id"],
      ];
      for (const [path, field] of cases) {
        const { answer, fast } = await same(path, { headers: auth(KEY_A) });
        assert.equal(answer.status, 400, path);
        const body = JSON.parse(answer.body);
        assert.equal(body.field, field, path);
        assert.equal(typeof body.error, "string");
        assert.ok(!fast, `${path}: Hono answered`);
      }
    });

    await t.step("auth: wrong tenant, scope, token or none: same answers", async () => {
      const cases: [string, RequestInit, number][] = [
        ["/campaign/cmp-42/insights", { headers: auth(KEY_B) }, 404], // another tenant's
        ["/campaign/cmp-b/insights", { headers: auth(KEY_B) }, 200],
        ["/campaign/nope/insights", { headers: auth(KEY_A) }, 404],
        ["/campaign/cmp-42/insights", { headers: auth(writing) }, 403],
        ["/insights", { headers: auth(writing) }, 403],
        ["/insights", { headers: auth("not-a-key") }, 401],
        ["/insights", { headers: { Authorization: "Basic abc" } }, 401],
        ["/insights", {}, 401],
        ["/insights", { headers: auth(session) }, 200], // a session as bearer: Hono
        ["/insights", { headers: { Cookie: `ca_session=${session}` } }, 200],
      ];
      for (const [path, init, status] of cases) {
        const { answer } = await same(path, init);
        assert.equal(answer.status, status, `${path} ${JSON.stringify(init)}`);
      }
    });

    await t.step("what the fast path leaves to Hono answers the same", async () => {
      const cases: [string, RequestInit][] = [
        ["/campaign/cmp%2D42/insights", { headers: auth(KEY_A) }],
        ["/campaign/cmp-42/insights/", { headers: auth(KEY_A) }],
        ["/campaign//insights", { headers: auth(KEY_A) }],
        ["/insights", { method: "HEAD", headers: auth(KEY_A) }],
        ["/insights", { method: "POST", headers: auth(KEY_A), body: "{}" }],
      ];
      for (const [path, init] of cases) {
        const { fast } = await same(path, init);
        assert.ok(!fast, `${init.method ?? "GET"} ${path}: Hono answered`);
      }
    });

    await t.step("a write in between: the next read through the fast path sees it", async () => {
      const path = "/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-30";
      const before = JSON.parse((await ask("on", path, { headers: auth(KEY_A) })).body);
      await store.upsert([metricRow({ ts: "2024-04-20T00:00:00Z", impressions: 7 })]);
      await reader.bumpDataVersion("tenant-a");
      const after = JSON.parse((await ask("on", path, { headers: auth(KEY_A) })).body);
      assert.equal(after.totals.impressions, before.totals.impressions + 7);
    });

    await t.step("access log lines and request metrics are the same on both", () => {
      assert.ok(lines.on.length > 40);
      assert.deepEqual(stable(lines.on), stable(lines.off).concat(stable(lines.on).slice(-2)));
      for (const line of lines.on) {
        const fields = JSON.parse(line);
        assert.equal(typeof fields.ms, "number");
        assert.match(fields.time, /^\d{4}-\d\d-\d\dT/);
      }
      // The "write in between" step asked the fast-path server alone, twice.
      const on = requestMetrics(registries.on);
      const off = requestMetrics(registries.off);
      const route = 'http_requests_total{method="GET",route="/campaign/:id/insights",status="200"}';
      const count = (rendered: string[]) =>
        Number(rendered.find((line) => line.startsWith(route))?.split(" ")[1]);
      assert.equal(count(on), count(off) + 2);
      assert.deepEqual(
        on.filter((line) => !line.includes("/campaign/:id/insights")),
        off.filter((line) => !line.includes("/campaign/:id/insights")),
      );
    });
  } finally {
    await servers.on.server.shutdown();
    await servers.off.server.shutdown();
    await reader.close();
    await db.dispose();
  }
});

Deno.test("with CORS configured there is no fast path", async () => {
  const { deps, dispose } = await testApp({ overrides: { corsOrigins: ["*"] } });
  try {
    assert.equal(createFastPath(deps), undefined);
    assert.ok(createFastPath({ ...deps, corsOrigins: [] }));
  } finally {
    await dispose();
  }
});

/** A client whose replies the test may hold back, after they arrived. */
function holding(client: RedisCommandClient) {
  let release = () => {};
  let gate: Promise<void> | undefined;
  let arrived = () => {};
  const state = {
    hold() {
      gate = new Promise((resolve) => release = resolve);
      return new Promise<void>((resolve) => arrived = resolve);
    },
    release: () => {
      gate = undefined;
      release();
    },
    client: {
      sendCommand: async (args: string[]) => {
        const reply = await client.sendCommand(args);
        if (gate) {
          const held = gate;
          arrived();
          await held;
        }
        return reply;
      },
      close: () => client.close(),
    } satisfies RedisCommandClient,
  };
  return state;
}

Deno.test({
  name: "through the fast path, a write committed on another replica is seen by the next read",
  ignore: redisMissing,
  async fn() {
    const prefix = `${uniqueName("fastpath")}:`;
    const connections = [createRedisClient(TEST_REDIS_URL!), createRedisClient(TEST_REDIS_URL!)];
    for (const connection of connections) assert.ok(await connection.waitUntilReady(5_000));
    const held = holding(connections[0]);
    // Two replicas: their own cache clients and connections, one Redis, one database.
    const replica = new CachedReader({ cache: redisCache(held.client, { keyPrefix: prefix }) });
    const writer = new CachedReader({ cache: redisCache(connections[1], { keyPrefix: prefix }) });
    const { deps, app, store, dispose } = await testApp({ cache: replica });
    let reachedHono = 0;
    const handler = withFastPath(deps, (request) => {
      reachedHono++;
      return app.fetch(request);
    });
    const path = "http://replica/campaign/cmp-42/insights?from=2024-04-01&to=2024-04-30";
    const read = async () => {
      const response = await handler(new Request(path, { headers: auth(KEY_A) }));
      assert.equal(response.status, 200);
      return (await response.json()).totals.impressions as number;
    };
    try {
      await store.upsert([metricRow({ ts: "2024-04-05T00:00:00Z", impressions: 100 })]);
      assert.equal(await read(), 100); // a miss, computed and stored
      assert.equal(await read(), 100); // a hit
      // Writes on the other replica; each next read here sees it.
      for (const impressions of [150, 175]) {
        await store.upsert([metricRow({ ts: "2024-04-05T00:00:00Z", impressions })]);
        await writer.bumpDataVersion("tenant-a");
        assert.equal(await read(), impressions);
        assert.equal(await read(), impressions);
      }
      // A read whose version read is in flight (answered by Redis, reply held here)
      // when the other replica commits: the next read must not share that version read.
      const arrived = held.hold();
      const early = read();
      await arrived;
      await store.upsert([metricRow({ ts: "2024-04-05T00:00:00Z", impressions: 200 })]);
      await writer.bumpDataVersion("tenant-a");
      const next = read();
      held.release();
      assert.equal(await early, 175, "the read that started before the write");
      assert.equal(await next, 200, "the very next read after the commit");
      assert.equal(reachedHono, 0, "every read was answered by the fast path");
    } finally {
      held.release();
      await deleteKeysWith(connections[1], prefix);
      await replica.close();
      await writer.close();
      await dispose();
    }
  },
});

Deno.test("HTTP_FAST_PATH_DISABLED sends every request to Hono", async () => {
  assert.equal(AppConfigSchema.parse({}).HTTP_FAST_PATH_DISABLED, false);
  assert.equal(
    AppConfigSchema.parse({ HTTP_FAST_PATH_DISABLED: "true" }).HTTP_FAST_PATH_DISABLED,
    true,
  );
  const { deps, app, store, dispose } = await testApp({
    cache: new CachedReader({ cache: new MemoryCache() }),
  });
  try {
    await store.upsert([metricRow()]);
    for (const enabled of [true, false]) {
      let reachedHono = 0;
      const handler = withFastPath(deps, (request) => {
        reachedHono++;
        return app.fetch(request);
      }, { enabled });
      const response = await handler(
        new Request("http://x/campaign/cmp-42/insights", { headers: auth(KEY_A) }),
      );
      assert.equal(response.status, 200);
      assert.equal(reachedHono, enabled ? 0 : 1, `enabled: ${enabled}`);
    }
  } finally {
    await dispose();
  }
});
