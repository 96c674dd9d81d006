/**
 * The embedded engine on its own thread: the HTTP thread answers while a long write
 * runs, and the worker-backed driver keeps PGlite's semantics (errors with SQLSTATE,
 * transactions that roll back, queries outside a transaction waiting for it). The
 * store conformance suite runs on it too (ENGINES in tests/support/databases.ts).
 */
import assert from "node:assert/strict";
import { pgliteWorkerDriver } from "../../runtime/pglite_worker_driver.ts";

Deno.test({
  name: "a request is answered while a long write runs in the embedded database",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const driver = await pgliteWorkerDriver();
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      () => new Response("ok"),
    );
    try {
      await driver.query("CREATE TABLE big (id int PRIMARY KEY, payload text)");
      let writeDone = false;
      const write = driver.query(
        "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 400000) g",
      ).then(() => (writeDone = true));
      // Let the worker start the statement before asking.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const answers: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
        assert.equal(await response.text(), "ok");
        answers.push(writeDone);
      }
      assert.deepEqual(answers, [false, false, false], "answered before the write finished");
      await write;
      const [{ n }] = await driver.query<{ n: number }>("SELECT count(*)::int AS n FROM big");
      assert.equal(n, 400000);
    } finally {
      await server.shutdown();
      await driver.close();
    }
  },
});

Deno.test({
  name: "the worker driver keeps errors, rollbacks and transaction ordering",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const driver = await pgliteWorkerDriver();
    try {
      await driver.query("CREATE TABLE t (id int PRIMARY KEY, note text)");
      await driver.query("INSERT INTO t VALUES (1, 'a')");
      await assert.rejects(
        () => driver.query("INSERT INTO t VALUES (1, 'b')"),
        (error: { code?: string }) => error.code === "23505",
      );
      await assert.rejects(() =>
        driver.transaction(async (tx) => {
          await tx.query("INSERT INTO t VALUES (2, 'c')");
          throw new Error("abandon");
        }), /abandon/);
      const afterRollback = await driver.query<{ id: number }>("SELECT id FROM t ORDER BY id");
      assert.deepEqual(afterRollback.map((r) => r.id), [1]);

      // A query outside an open transaction waits for its commit, as on PGlite itself.
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const tx = driver.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (3, 'd')");
        await gate;
        order.push("commit");
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const outside = driver.query<{ n: number }>("SELECT count(*)::int AS n FROM t").then(
        (rows) => {
          order.push("outside");
          return rows[0].n;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await tx;
      assert.equal(await outside, 2);
      assert.deepEqual(order, ["commit", "outside"]);

      // Types survive the thread boundary: timestamps, numerics, JSON, bigint.
      const [typed] = await driver.query<Record<string, unknown>>(
        "SELECT now() AS at, 1.10::numeric AS money, '{\"a\":1}'::jsonb AS doc, 9007199254740993::bigint AS big",
      );
      assert.ok(typed.at instanceof Date);
      assert.equal(typed.money, "1.10");
      assert.deepEqual(typed.doc, { a: 1 });
      assert.equal(String(typed.big), "9007199254740993");
    } finally {
      await driver.close();
    }
  },
});
