/**
 * Scale-out, for real on one machine: three `serve` replicas share one PostgreSQL and
 * one Redis (private instances, so they can be restarted and killed), with the Meta
 * connector syncing from a fake Graph API on the schedule "every minute".
 *
 * 1. each scheduled sync runs exactly once across the three, and all three answer the
 *    same numbers, equal to what the platform served;
 * 2. kill -9 the replica in the middle of a sync: a later run completes the window;
 * 3. PostgreSQL stops during a sync: requests fail fast with 503, ingestion resumes;
 * 4. Redis killed: every API request still answers from the database.
 * Final totals equal the fake server's exactly: nothing lost, nothing doubled.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { IN_CI } from "./support/databases.ts";
import {
  adminClient,
  privateServersAvailable,
  type Replica,
  startPrivatePostgres,
  startPrivateRedis,
  startReplica,
  waitFor,
} from "./support/services.ts";
import { makeDataset, restated, storeTotalsByCurrency } from "./fakes/ad_platform.ts";
import { startFakeMeta } from "./fakes/meta_server.ts";
import { calendarDateIn, shiftDate } from "../lib/dates.ts";
import { postgresDriver } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";

const API_KEY = "scaleout-key-0123456789";
const TENANT = "scale";
const LOOKBACK_DAYS = 13;
const ACCOUNTS = ["1010101", "2020202"];

const scaleoutMissing = !privateServersAvailable && !IN_CI;

interface RunRow {
  id: number;
  account_id: string;
  slot: Date | null;
  status: string;
  runner: string | null;
  error: string | null;
  rows_accepted: number;
}

/** A proxy that delays every request to the fake platform (to hold a sync open). */
function delayingProxy(target: string) {
  let delayMs = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const url = new URL(request.url);
      const upstream = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === "GET" ? undefined : await request.text(),
      });
      return new Response(await upstream.text(), {
        status: upstream.status,
        headers: upstream.headers,
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    setDelay: (ms: number) => (delayMs = ms),
    close: () => server.shutdown(),
  };
}

Deno.test({
  name: "scale-out: 3 replicas, one sync per slot, kill -9, PostgreSQL down, Redis down",
  ignore: scaleoutMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const figures: Record<string, unknown> = {};
    const today = calendarDateIn(new Date(), "UTC");
    const original = makeDataset({
      accounts: ACCOUNTS.map((id, i) => ({
        id,
        currency: i === 0 ? "USD" : "EUR",
        timeZone: i === 0 ? "UTC" : "Europe/Berlin",
      })),
      campaignsPerAccount: 3,
      from: shiftDate(today, -LOOKBACK_DAYS),
      days: LOOKBACK_DAYS + 1,
    });
    const meta = startFakeMeta({ dataset: original, pageSize: 5 });
    const proxy = delayingProxy(meta.url);
    const pg = await startPrivatePostgres();
    const redis = await startPrivateRedis();
    const admin = adminClient(pg.url);
    const replicas: Replica[] = [];
    const env = {
      DATABASE_URL: pg.url,
      DATABASE_POOL_SIZE: "6",
      REDIS_URL: redis.url,
      API_KEY: `${TENANT}:${API_KEY}`,
      DATA_SOURCE: "real",
      ENABLED_SOURCES: "meta",
      INGEST_TENANT: TENANT,
      INGEST_SCHEDULE: "* * * * *",
      INGEST_LOOKBACK_DAYS: String(LOOKBACK_DAYS),
      META_ACCESS_TOKEN: meta.token,
      META_AD_ACCOUNT_IDS: ACCOUNTS.join(","),
      META_API_BASE_URL: proxy.url,
      INGEST_HTTP_MAX_ATTEMPTS: "3",
    };
    const runs = async (): Promise<RunRow[]> =>
      (await admin`SELECT id, account_id, slot, status, runner, error, rows_accepted::int
                   FROM ingest_runs ORDER BY id`) as unknown as RunRow[];
    const storeTotals = async () => {
      const driver = postgresDriver(adminClient(pg.url));
      try {
        return storeTotalsByCurrency(
          await new SqlMetricsStore(driver).totals({ tenantId: TENANT, platforms: ["meta"] }),
        );
      } finally {
        await driver.close();
      }
    };
    const get = async (replica: Replica, path: string) => {
      const started = performance.now();
      const response = await fetch(`${replica.base}${path}`, {
        headers: { Authorization: `Bearer ${API_KEY}` },
      });
      const body = await response.json();
      return {
        status: response.status,
        body,
        ms: performance.now() - started,
        headers: response.headers,
      };
    };
    /** A slot in which every account's run succeeded, later than `after`. */
    const completedSlot = (after: number) =>
      waitFor(
        `a completed slot after ${new Date(after).toISOString()}`,
        async () => {
          const all = await runs();
          const slots = [
            ...new Set(
              all.filter((r) => r.slot && r.slot.getTime() > after).map((r) => r.slot!.getTime()),
            ),
          ];
          return slots.find((slot) =>
            ACCOUNTS.every((account) =>
              all.some((r) =>
                r.slot?.getTime() === slot && r.account_id === account && r.status === "succeeded"
              )
            )
          );
        },
        200_000,
        500,
      );

    try {
      replicas.push(...await Promise.all([1, 2, 3].map(() => startReplica(env))));

      let firstSlot = 0;
      await t.step("each scheduled sync runs once across the three replicas", async () => {
        firstSlot = await completedSlot(0);
        const inSlot = (await runs()).filter((r) => r.slot?.getTime() === firstSlot);
        assert.equal(inSlot.length, ACCOUNTS.length, "one run per account for the slot");
        const accountFetches = meta.requests.filter((r) => /^\/act_\d+$/.test(r.path)).length;
        assert.equal(accountFetches, ACCOUNTS.length, "the platform saw one sync, not three");
        figures.first_slot = new Date(firstSlot).toISOString();
        figures.first_slot_runners = [...new Set(inSlot.map((r) => r.runner))];
        figures.rows_first_sync = inSlot.reduce((sum, r) => sum + r.rows_accepted, 0);
      });

      await t.step(
        "all three replicas answer the same numbers, equal to the platform's",
        async () => {
          assert.deepEqual(await storeTotals(), meta.totals());
          const answers = await Promise.all(replicas.map((r) => get(r, "/insights?platform=meta")));
          for (const answer of answers) assert.equal(answer.status, 200);
          const bodies = answers.map((a) => JSON.stringify(a.body.by_currency ?? a.body.totals));
          assert.equal(new Set(bodies).size, 1, "identical answers");
        },
      );

      let killed: Replica | undefined;
      let killedRunId = 0;
      await t.step("kill -9 the replica in the middle of a sync", async () => {
        meta.setDataset(restated(original, { days: 5 }));
        proxy.setDelay(700);
        const running = await waitFor(
          "a sync in progress",
          async () => {
            const row = (await runs()).find((r) =>
              r.status === "running" && (r.slot?.getTime() ?? 0) > firstSlot
            );
            return row;
          },
          120_000,
          200,
        );
        const pid = Number(running.runner!.split(":").at(-1));
        killed = replicas.find((replica) => replica.pid === pid);
        assert.ok(killed, `the runner ${running.runner} is one of ours`);
        await new Promise((resolve) => setTimeout(resolve, 1500)); // well inside the sync
        await killed.kill("SIGKILL");
        killedRunId = running.id;
        figures.killed_runner = running.runner;
        figures.killed_at_slot = running.slot?.toISOString();
      });
      const survivors = replicas.filter((replica) => replica !== killed);

      await t.step("PostgreSQL stops during a sync: requests fail fast with 503", async () => {
        const killedSlot = (await runs()).find((r) => r.id === killedRunId)!.slot!.getTime();
        await waitFor(
          "the next sync in progress",
          async () =>
            (await runs()).find((r) =>
              r.status === "running" && r.slot!.getTime() > killedSlot && r.id !== killedRunId
            ),
          120_000,
          200,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await pg.stop();
        const stoppedAt = performance.now();
        const probes = [];
        for (const [i, replica] of survivors.entries()) {
          // Uncached questions (a cached answer may still be served from Redis).
          probes.push(await get(replica, `/insights?platform=meta&from=2020-01-0${i + 1}`));
        }
        for (const probe of probes) {
          assert.equal(probe.status, 503);
          assert.ok(Number(probe.headers.get("Retry-After")) > 0);
          assert.ok(probe.ms < 3000, `failed fast (${Math.round(probe.ms)} ms)`);
        }
        figures.down_probe_ms = probes.map((p) => Math.round(p.ms));
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await pg.start();
        const startedAt = performance.now();
        await waitFor(
          "answers from the database again",
          async () => {
            const answer = await get(survivors[0], `/insights?platform=meta&from=2020-02-01`);
            return answer.status === 200 ? answer : undefined;
          },
          60_000,
          100,
        );
        figures.postgres_down_seconds = Math.round((startedAt - stoppedAt) / 100) / 10;
        figures.recovery_ms_after_postgres_start = Math.round(performance.now() - startedAt);
      });

      await t.step(
        "a later run completes the window: totals exact, nothing lost or doubled",
        async () => {
          proxy.setDelay(0);
          const expected = meta.totals();
          const finalSlot = await completedSlot(Date.now() - 5_000);
          const totals = await waitFor(
            "store totals equal to the platform's",
            async () => {
              const stored = await storeTotals();
              return isDeepStrictEqual(stored, meta.totals()) ? stored : undefined;
            },
            120_000,
            1000,
          );
          assert.deepEqual(totals, meta.totals());
          assert.notDeepEqual(expected, {}, "the platform served data");
          const all = await runs();
          const killedRun = all.find((r) => r.id === killedRunId)!;
          assert.equal(killedRun.status, "failed", "the killed replica's run is marked failed");
          const perSlot = new Map<number, number>();
          for (const run of all.filter((r) => r.slot)) {
            perSlot.set(run.slot!.getTime(), (perSlot.get(run.slot!.getTime()) ?? 0) + 1);
          }
          for (const count of perSlot.values()) {
            assert.ok(count <= ACCOUNTS.length, "never two runs of one slot");
          }
          figures.final_slot = new Date(finalSlot).toISOString();
          figures.syncs = {
            succeeded: all.filter((r) => r.status === "succeeded").length,
            failed: all.filter((r) => r.status === "failed").length,
            slots: perSlot.size,
            errors: [...new Set(all.filter((r) => r.error).map((r) => r.error))],
          };
          figures.rows_stored = (await admin`SELECT count(*)::int AS n FROM campaign_metrics`)[0].n;
          const answers = await Promise.all(
            survivors.map((r) => get(r, "/insights?platform=meta")),
          );
          assert.equal(new Set(answers.map((a) => JSON.stringify(a.body.by_currency))).size, 1);
        },
      );

      await t.step("Redis killed: every request still answers from the database", async () => {
        await redis.kill();
        for (const replica of survivors) {
          for (
            const path of [
              "/insights?platform=meta",
              "/campaigns",
              `/insights?group_by=campaign&from=${today}`,
            ]
          ) {
            const answer = await get(replica, path);
            assert.equal(answer.status, 200, `${path} on :${replica.port}`);
          }
          // Degraded, not unready: the replica stays in rotation and answers from PostgreSQL.
          const ready = await get(replica, "/readyz");
          assert.equal(ready.status, 200);
          assert.equal(ready.body.status, "degraded");
          assert.match(ready.body.error, /cache/);
        }
        const stored = await storeTotals();
        const answer = await get(survivors[0], "/insights?platform=meta");
        const eur = answer.body.by_currency.find((c: { currency: string }) => c.currency === "EUR");
        assert.equal(eur.impressions, Number(stored.EUR.impressions));
      });
      console.log(`scale-out figures: ${JSON.stringify(figures)}`);
    } finally {
      const logDir = Deno.env.get("SCALEOUT_LOG_DIR");
      for (const replica of replicas) {
        if (logDir) {
          await Deno.writeTextFile(`${logDir}/replica-${replica.port}.log`, replica.output());
        }
      }
      await Promise.all(replicas.map((replica) => replica.kill("SIGKILL")));
      await admin.end({ timeout: 1 }).catch(() => {});
      await redis.kill();
      await pg.destroy();
      await proxy.close();
      await meta.close();
    }
  },
});
