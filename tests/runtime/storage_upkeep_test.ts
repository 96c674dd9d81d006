/** serve's storage upkeep: a run at start-up, a daily Deno.cron, failures logged not thrown. */
import assert from "node:assert/strict";
import { pgliteDatabase } from "../support/databases.ts";
import {
  runStorageUpkeep,
  startStorageUpkeep,
  STORAGE_UPKEEP_SCHEDULE,
} from "../../runtime/storage_upkeep.ts";
import { createLogger } from "../../lib/log.ts";
import { listPartitions, monthKeyOf, monthPartitionName } from "../../lib/store/partitions.ts";

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const logger = createLogger({
    level: "debug",
    write: (line: string) => {
      const parsed = JSON.parse(line);
      lines.push({ level: parsed.level, message: parsed.msg ?? parsed.message });
    },
  });
  return { logger, lines };
}

Deno.test("storage upkeep: partitions ahead at start-up, the same job daily", async () => {
  const db = await pgliteDatabase();
  try {
    const { logger } = recordingLogger();
    const registered: { name: string; schedule: string; run: () => Promise<void> }[] = [];
    const startUp = await startStorageUpkeep(db.driver, {}, logger, (name, schedule, run) => {
      registered.push({ name, schedule, run });
    });
    assert.equal(startUp?.created.length, 14, "this month and 13 ahead, at start-up");
    assert.deepEqual(registered.map((r) => [r.name, r.schedule]), [
      ["storage-upkeep", STORAGE_UPKEEP_SCHEDULE],
    ]);
    await registered[0].run(); // the daily run: nothing left to create
    const names = (await listPartitions(db.driver)).map((p) => p.name);
    assert.ok(names.includes(monthPartitionName(monthKeyOf(new Date()))), "this month");
    assert.ok(names.includes(monthPartitionName(monthKeyOf(new Date()) + 13)), "13 months on");
  } finally {
    await db.dispose();
  }
});

Deno.test("storage upkeep: a failure is logged and the next run tries again", async () => {
  const db = await pgliteDatabase();
  const { logger, lines } = recordingLogger();
  await db.dispose(); // a closed database: every query fails
  const report = await runStorageUpkeep(db.driver, { RETENTION_MONTHS: 12 }, logger);
  assert.equal(report, undefined);
  assert.ok(
    lines.some((line) => line.level === "error" && /storage upkeep failed/.test(line.message)),
  );
});
