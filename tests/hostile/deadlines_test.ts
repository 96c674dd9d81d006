/**
 * The waits behind item 5 of issue #18, one by one: a pooled query that cannot get a
 * connection in time fails as a transient error (503) and leaves the queue; /readyz
 * never runs more than one probe per dependency at a time; reconnect delays stay short.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { postgresDriver, QueryTimeoutError } from "../../lib/store/driver.ts";
import { isTransientDatabaseError } from "../../lib/store/errors.ts";
import { singleFlightProbe } from "../../handlers/health.ts";
import { reconnectDelaySeconds } from "../../runtime/postgres.ts";
import { postgresMissing, TEST_DATABASE_URL } from "../support/databases.ts";

Deno.test({
  name: "a pooled query waiting for a busy pool misses its deadline as a transient error",
  ignore: postgresMissing,
  async fn() {
    const sql = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const driver = postgresDriver(sql, { queryTimeoutMs: 300 });
    try {
      // The only connection is busy (a query of the pool itself, without a deadline).
      const busy = sql.unsafe("SELECT pg_sleep(1.5)").then(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      const error = await driver.query("SELECT 1 AS one").then(() => undefined, (e) => e);
      const waited = performance.now() - started;
      assert.ok(error instanceof QueryTimeoutError, String(error));
      assert.ok(isTransientDatabaseError(error), "answered 503 with Retry-After");
      assert.ok(waited < 1000, `gave up after ${Math.round(waited)} ms`);
      await busy;
      // The timed-out query left the queue: the pool serves the next one normally.
      assert.deepEqual([...await driver.query("SELECT 2 AS two")], [{ two: 2 }]);
    } finally {
      await driver.close();
    }
  },
});

Deno.test("readiness: one probe in flight per dependency, results reused briefly", async () => {
  let calls = 0;
  let release: () => void = () => {};
  let clock = 0;
  const probe = singleFlightProbe(
    () => {
      calls++;
      return new Promise<void>((resolve) => (release = resolve));
    },
    { timeoutMs: 50, freshMs: 500, now: () => clock },
  );
  // A hanging check: every poll times out, but only one check ever runs.
  for (let i = 0; i < 5; i++) assert.equal(await probe(), "timed out");
  assert.equal(calls, 1);
  release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  clock += 100;
  assert.equal(await probe(), null, "its late success is remembered");
  assert.equal(calls, 1, "and reused while fresh");
  clock += 1000;
  const next = probe();
  release();
  assert.equal(await next, null);
  assert.equal(calls, 2, "a new check once the result is stale");
});

Deno.test("reconnect delays stay short however many attempts failed", () => {
  for (const failures of [0, 1, 5, 50, 1000]) {
    assert.ok(reconnectDelaySeconds(failures) <= 0.25);
  }
});
