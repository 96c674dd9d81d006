/**
 * Evidence that the library works from another project: a fresh project in a temp
 * directory links this repository (deno.json "links", as docs/library.md shows),
 * imports the package's entry points by name, opens a PGlite store with the documented
 * set-up call, upserts rows and reads exact totals. Also: openMetricsStore on
 * PostgreSQL, idempotent and safe when replicas open the store at the same time.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { openMetricsStore, postgresDriver } from "../../store.ts";
import { MIGRATIONS } from "../../sql/migrations.generated.ts";
import { postgresMissing, TEST_DATABASE_URL } from "../support/databases.ts";

const ROOT = new URL("../../", import.meta.url);

const CONSUMER = `
import { computeMetrics } from "@campaign-analytics/core";
import { PGlite } from "@electric-sql/pglite";
import { openMetricsStore, pgliteDriver } from "@campaign-analytics/core/store";

const db = await openMetricsStore(pgliteDriver(new PGlite()));
const row = {
  tenant_id: "t1", platform: "tiktok", account_id: "adv-9", campaign_id: "c-7",
  impressions: 3000, clicks: 90, conversions: "4.5", cost: "120.33", revenue: "999.99",
  currency: "GBP", source: "consumer",
};
const { accepted } = await db.store.upsert([
  { ...row, ts: "2024-03-01T00:00:00Z" },
  { ...row, ts: "2024-03-02T00:00:00Z", cost: "0.01", revenue: "0.01" },
  { ...row, ts: "2024-03-02T00:00:00Z", cost: "0.02", revenue: "0.02" },
]);
const { totals } = await db.store.totals({ tenantId: "t1" });
await db.close();
console.log(JSON.stringify({
  applied: db.appliedMigrations,
  accepted,
  totals,
  kpis: computeMetrics(totals[0]),
}));
`;

Deno.test("a separate project links the library, opens a PGlite store and gets exact totals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "library-consumer-" });
  try {
    const config = {
      links: [ROOT.pathname],
      imports: {
        "@campaign-analytics/core": "jsr:@campaign-analytics/core@^0.2.0",
        "@campaign-analytics/core/store": "jsr:@campaign-analytics/core@^0.2.0/store",
        "@electric-sql/pglite": "npm:@electric-sql/pglite@^0.5.16",
      },
    };
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config));
    await Deno.writeTextFile(`${dir}/main.ts`, CONSUMER);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]);
    assert.deepEqual(result.applied, MIGRATIONS.map((m) => m.version));
    assert.equal(result.accepted, 3);
    assert.equal(result.totals.length, 1);
    const [total] = result.totals;
    assert.equal(total.currency, "GBP");
    assert.equal(Number(total.impressions), 6000);
    assert.equal(Number(total.clicks), 180);
    assert.equal(Number(total.conversions), 9);
    assert.equal(total.cost, "120.35"); // the restated day replaced, not added
    assert.equal(total.revenue, "1000.01");
    assert.equal(result.kpis.ctr, 0.03);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "openMetricsStore on PostgreSQL: concurrent opens apply each migration once",
  ignore: postgresMissing,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const schema = `lib_open_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const open = () =>
      openMetricsStore(postgresDriver(postgres(TEST_DATABASE_URL!, {
        max: 2,
        onnotice: () => {},
        connection: { search_path: schema },
      })));
    try {
      const opened = await Promise.all([open(), open(), open()]);
      const applied = opened.flatMap((db) => db.appliedMigrations).sort((a, b) => a - b);
      assert.deepEqual(applied, MIGRATIONS.map((m) => m.version));
      const again = await open();
      assert.deepEqual(again.appliedMigrations, []);
      await again.store.upsert([{
        tenant_id: "pg",
        platform: "linkedin",
        account_id: "a",
        campaign_id: "c",
        ts: "2024-01-01T00:00:00Z",
        impressions: 10,
        clicks: 1,
        conversions: 0,
        cost: "0.10",
        revenue: "0",
        currency: "USD",
      }]);
      const { totals } = await opened[0].store.totals({ tenantId: "pg" });
      assert.equal(totals[0].cost, "0.10");
      await Promise.all([...opened, again].map((db) => db.close()));
    } finally {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  },
});
