/**
 * A sync whose runner dies (kill -9) must not stay "running" (issue #18, item 7): a run
 * that is running while nobody holds its account's sync lock is marked failed on the
 * next /sources read or dispatcher pass; a run whose runner holds the lock is left alone.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { IngestJournal, syncLockKey } from "../../lib/store/ingest_journal.ts";
import { SyncLocks } from "../../ingest/locks.ts";
import { ENGINES, TEST_DATABASE_URL } from "../support/databases.ts";

const TENANT = "runs-tenant";
const WINDOW = { from: "2024-04-01", to: "2024-04-10" };

for (const engine of ENGINES) {
  Deno.test({
    name: `abandoned runs (${engine.name}): running without its lock is marked failed`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const journal = new IngestJournal(db.driver);
      const tenant = `${TENANT}-${crypto.randomUUID().slice(0, 8)}`;
      const runStatus = async (id: number) =>
        (await db.driver.query<{ status: string; error: string | null }>(
          "SELECT status, error FROM ingest_runs WHERE id = $1",
          [id],
        ))[0];
      const running = async () =>
        (await journal.sourceStatus(tenant)).find((s) => s.source === "meta")?.running ?? 0;
      try {
        await t.step("a run held by a live runner stays running", async () => {
          const locks = new SyncLocks(db.driver);
          const key = syncLockKey(tenant, "meta", "live");
          const outcome = await locks.run(key, async () => {
            const id = (await journal.startRun({
              tenantId: tenant,
              source: "meta",
              accountId: "live",
              window: WINDOW,
            }))!;
            assert.equal(await running(), 1, "counted while its runner holds the lock");
            assert.equal((await runStatus(id)).status, "running");
            await journal.finishRun(id, { status: "succeeded", accepted: 1, rejected: 0 });
            return id;
          });
          assert.ok(outcome.ran);
          assert.equal((await runStatus(outcome.value)).status, "succeeded");
        });

        await t.step("a run nobody holds the lock of is failed on the next read", async () => {
          const id = (await journal.startRun({
            tenantId: tenant,
            source: "meta",
            accountId: "dead",
            slot: new Date("2024-04-24T10:00:00Z"),
            window: WINDOW,
          }))!;
          assert.equal(await running(), 0, "/sources no longer reports it running");
          const row = await runStatus(id);
          assert.equal(row.status, "failed");
          assert.match(row.error ?? "", /runner stopped/);
        });

        await t.step(
          "the live stream's run (no lock, no window) is left to its own check",
          async () => {
            const id =
              (await journal.startRun({ tenantId: tenant, source: "fake", accountId: "stream" }))!;
            await journal.sourceStatus(tenant);
            assert.equal((await runStatus(id)).status, "running");
          },
        );

        if (engine.name === "postgres") {
          await t.step(
            "a runner process whose connection dies (kill -9) loses its runs",
            async () => {
              // Another "process": its own connection takes the lock, records the run, then
              // dies without a word (its backend is terminated, as when the OS kills it).
              const runner = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
              const key = syncLockKey(tenant, "meta", "killed");
              const [{ pid }] = await runner`SELECT pg_backend_pid() AS pid,
              pg_advisory_lock(hashtextextended(${key}, 4242001))`;
              const id = (await journal.startRun({
                tenantId: tenant,
                source: "meta",
                accountId: "killed",
                window: WINDOW,
              }))!;
              assert.equal(await running(), 1, "alive: still running");
              const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
              await admin`SELECT pg_terminate_backend(${pid})`;
              await admin.end();
              await runner.end({ timeout: 0 }).catch(() => {});
              // The server releases the lock as the backend exits; allow it a moment.
              const deadline = Date.now() + 5000;
              while ((await running()) !== 0 && Date.now() < deadline) {
                await new Promise((resolve) => setTimeout(resolve, 50));
              }
              assert.equal(await running(), 0);
              assert.equal((await runStatus(id)).status, "failed");
            },
          );
        }
      } finally {
        await db.dispose();
      }
    },
  });
}
