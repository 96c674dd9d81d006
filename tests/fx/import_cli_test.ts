/**
 * `deno task fx:import FILE --tenant T` as a process: the rates of an ECB-layout file
 * land in the database (here the embedded one under DATA_DIR), a malformed line is
 * reported with its line number and makes the exit status 1, the rest is stored.
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { pgliteDriver } from "../../lib/store/driver.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";

Deno.test({
  name: "fx:import loads an ECB CSV file for one tenant",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/eurofxref-hist.csv`;
      await Deno.writeTextFile(
        file,
        "Date,USD,JPY,GBP,\n2024-04-05,1.0850,164.81,N/A,\n2024-04-04,oops,163.99,0.8571,\n",
      );
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "runtime/fx_import.ts", file, "--tenant", "agency-1"],
        env: { DATA_DIR: `${dir}/data`, DATABASE_URL: "", REDIS_URL: "", LOG_LEVEL: "warn" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 1, new TextDecoder().decode(output.stderr));
      const report = JSON.parse(stdout.trim().split("\n").at(-1)!);
      assert.equal(report.tenant, "agency-1");
      assert.equal(report.accepted, 2);
      assert.deepEqual(
        report.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
        [
          [3, "USD"],
        ],
      );
      const driver = pgliteDriver(await PGlite.create(`${dir}/data/pglite`));
      try {
        const rates = await new SqlFxStore(driver).listRates("agency-1");
        assert.deepEqual(rates.map((r) => [r.date, r.base, r.quote, r.rate, r.source]), [
          ["2024-04-05", "EUR", "JPY", "164.81", "csv"],
          ["2024-04-05", "EUR", "USD", "1.0850", "csv"],
        ]);
        assert.deepEqual(await new SqlFxStore(driver).listRates("default"), []);
      } finally {
        await driver.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
