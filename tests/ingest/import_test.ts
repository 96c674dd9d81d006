/**
 * `main.ts import FILE`: CSV and NDJSON rows through the processor (validation, dead
 * letters, upsert), a summary line, no progress off a terminal, idempotent re-runs.
 */
import assert from "node:assert/strict";
import { csvFields, importFile } from "../../runtime/import_file.ts";
import { postgresDatabase, postgresMissing } from "../support/databases.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";

const CSV = [
  "platform,account_id,campaign_id,campaign_name,ts,impressions,clicks,conversions,cost,revenue,currency",
  'google,111,cmp-1,"Spring, ""Big"" Sale",2024-04-01T00:00:00Z,1000,50,2.5,10.10,40.40,USD',
  "google,111,cmp-1,,2024-04-01T01:00:00Z,500,25,1,5.05,20.20,USD",
  "myspace,111,cmp-2,,2024-04-01T00:00:00Z,1,1,0,1,1,USD",
  "google,111,cmp-3,too few fields",
].join("\r\n") + "\r\n";

const NDJSON = [
  JSON.stringify({
    platform: "meta",
    account_id: "9",
    campaign_id: "m-1",
    ts: "2024-04-02T00:00:00Z",
    impressions: 10,
    clicks: 1,
    conversions: "0",
    cost: "1.00",
    revenue: "3.00",
    currency: "EUR",
  }),
  "{not json",
  "",
].join("\n");

Deno.test("CSV fields: quotes, doubled quotes, commas, an open quote", () => {
  assert.deepEqual(csvFields('a,"b,c","d ""e"""'), ["a", "b,c", 'd "e"']);
  assert.deepEqual(csvFields(""), [""]);
  assert.equal(csvFields('a,"open'), undefined);
});

Deno.test({
  name: "import: CSV and NDJSON through the processor, summary, idempotent re-run",
  ignore: postgresMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await postgresDatabase();
    const dir = await Deno.makeTempDir({ prefix: "import-test-" });
    try {
      const csv = `${dir}/rows.csv`;
      const ndjson = `${dir}/rows.ndjson`;
      await Deno.writeTextFile(csv, CSV);
      await Deno.writeTextFile(ndjson, NDJSON);
      const env = { DATABASE_URL: db.url!, LOG_LEVEL: "warn", DATA_DIR: dir };
      const written: string[] = [];
      const out = { write: (text: string) => written.push(text), terminal: false };
      const first = await importFile(env, [csv, "--tenant", "acme"], out);
      assert.equal(first.rows, 4);
      assert.equal(first.accepted, 2);
      assert.equal(first.rejected, 2);
      assert.equal(written.length, 1, "no progress lines off a terminal, one summary");
      assert.match(written[0], /^imported .*rows\.csv: 4 rows, 2 accepted, 2 rejected/);

      const store = new SqlMetricsStore(db.driver);
      const before = await store.totals({ tenantId: "acme" });
      assert.equal(before.totals[0].impressions, "1500");
      const dead = await db.driver.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ingest_rejects WHERE tenant_id = 'acme'",
      );
      assert.equal(dead[0].n, 2, "rejected rows are dead-lettered");
      const [campaign] = await store.findCampaign("acme", "cmp-1");
      assert.equal(campaign.name, 'Spring, "Big" Sale');

      const again = await importFile(env, [csv, "--tenant", "acme"], out);
      assert.equal(again.accepted, 2);
      assert.deepEqual(await store.totals({ tenantId: "acme" }), before, "a re-run is idempotent");

      const progress: string[] = [];
      const json = await importFile(env, [ndjson, "--tenant", "acme", "--source", "crm"], {
        write: (text) => progress.push(text),
        terminal: true,
      });
      assert.equal(json.accepted, 1);
      assert.equal(json.rejected, 1);
      assert.match(progress[0], /^\r1 rows?|^\r2 rows/);
      const eur = await store.totals({ tenantId: "acme", currency: "EUR" });
      assert.equal(eur.totals[0].revenue.replace(/0+$/, ""), "3.");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await db.dispose();
    }
  },
});

Deno.test({
  name: "import: batches in file order while the next one is parsed; a later row wins",
  ignore: postgresMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await postgresDatabase();
    const dir = await Deno.makeTempDir({ prefix: "import-test-" });
    try {
      // 40 rows in batches of 3: the same key restated in later batches, last value wins.
      const header = "platform,account_id,campaign_id,ts,impressions,clicks,conversions,cost," +
        "revenue,currency";
      const lines = Array.from({ length: 40 }, (_, i) => {
        const hour = String(i % 4).padStart(2, "0");
        return `google,111,cmp-${i % 2},2024-04-01T${hour}:00:00Z,${i},1,0,0.${i},0,USD`;
      });
      const csv = `${dir}/restated.csv`;
      await Deno.writeTextFile(csv, [header, ...lines].join("\n") + "\n");
      const env = { DATABASE_URL: db.url!, LOG_LEVEL: "warn", DATA_DIR: dir };
      const out = { write: () => {}, terminal: false };
      const summary = await importFile(env, [csv, "--tenant", "order"], out, 3);
      assert.equal(summary.accepted, 40);
      const rows = await db.driver.query<{ campaign_id: string; hour: string; n: string }>(
        `SELECT campaign_id, to_char(ts AT TIME ZONE 'UTC', 'HH24') AS hour,
                impressions::text AS n
         FROM campaign_metrics WHERE tenant_id = 'order' ORDER BY 1, 2`,
      );
      // Keys repeat every 4 lines; the last of each is among lines 36..39.
      assert.deepEqual(rows.map((r) => [r.campaign_id, r.hour, r.n]), [
        ["cmp-0", "00", "36"],
        ["cmp-0", "02", "38"],
        ["cmp-1", "01", "37"],
        ["cmp-1", "03", "39"],
      ]);
      const totals = await new SqlMetricsStore(db.driver).totals({ tenantId: "order" });
      assert.equal(totals.totals[0].impressions, String(36 + 37 + 38 + 39));
      assert.equal(totals.totals[0].cost.replace(/0+$/, ""), "1.5");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await db.dispose();
    }
  },
});
