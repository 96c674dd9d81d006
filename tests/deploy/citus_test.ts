/**
 * The Citus path (sql/citus/, docs/scaling.md), checked without Citus (no Citus package
 * exists on our machines):
 *
 * - the schema the app's migrations build leads every primary key and unique key of every
 *   tenant table with tenant_id, except the two journal ids sql/citus/01_keys.sql widens;
 * - sql/citus/*.sql run, in order, against the migrated schema with stand-ins for Citus's
 *   create_distributed_table / create_reference_table that apply Citus's own rules
 *   (keys and foreign keys include the distribution column, co-location partners exist,
 *   referenced tables first) and record the calls;
 * - every statement the store and the journal send, recorded while they run, either reads
 *   with `tenant_id = $n` bound to the caller's tenant (Citus routes it to one shard) or
 *   writes one tenant's rows only.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { splitStatements } from "../../lib/store/migrate.ts";
import type { SqlDriver, SqlExecutor, SqlParam } from "../../lib/store/driver.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";

const ROOT = new URL("../../", import.meta.url);

function citusScripts(): { name: string; sql: string }[] {
  const dir = new URL("sql/citus/", ROOT);
  return [...Deno.readDirSync(dir)].filter((entry) => entry.name.endsWith(".sql"))
    .map((entry) => entry.name).sort()
    .map((name) => ({ name, sql: Deno.readTextFileSync(new URL(name, dir)) }));
}

/** Tables the app's migrations create, with or without a tenant_id column. */
async function tables(db: SqlExecutor): Promise<{ name: string; tenant: boolean }[]> {
  const rows = await db.query<{ name: string; tenant: boolean }>(
    `SELECT c.relname AS name,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                    AND a.attname = 'tenant_id' AND a.attnotnull AND NOT a.attisdropped) AS tenant
     FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
       AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  return rows;
}

/**
 * Unique indexes (primary keys included) whose first column is not tenant_id, outside
 * the coordinator's own table and the one-row reference table of the retention horizon.
 */
async function keysNotLedByTenant(db: SqlExecutor): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT i.indexrelid::regclass::text AS name
     FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
     WHERE t.relnamespace = current_schema()::regnamespace AND i.indisunique
       AND t.relname NOT IN ('schema_migrations', 'campaign_metrics_retention')
       AND (SELECT attname FROM pg_attribute
            WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) IS DISTINCT FROM 'tenant_id'
     ORDER BY 1`,
  );
  return rows.map((row) => row.name.replace(/^.*\./, ""));
}

/**
 * Stand-ins with Citus's signatures and the checks Citus makes before distributing:
 * the column exists, every unique index and every foreign key includes it, tables a
 * foreign key references are distributed (co-located) or reference tables already,
 * and `colocate_with` names a table distributed before.
 */
const CITUS_STAND_INS = `
CREATE TABLE citus_calls (
  kind text NOT NULL, relation text NOT NULL, dist_column text, colocated_with text, shards int
);
CREATE FUNCTION create_distributed_table(
  table_name regclass, distribution_column text, distribution_type text DEFAULT 'hash',
  colocate_with text DEFAULT 'default', shard_count int DEFAULT NULL
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  col smallint;
  bad text;
BEGIN
  SELECT attnum INTO col FROM pg_attribute
  WHERE attrelid = table_name AND attname = distribution_column AND NOT attisdropped;
  IF col IS NULL THEN
    RAISE EXCEPTION '% has no column %', table_name, distribution_column;
  END IF;
  SELECT string_agg(indexrelid::regclass::text, ', ') INTO bad FROM pg_index
  WHERE indrelid = table_name AND indisunique AND NOT (col = ANY (indkey::smallint[]));
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'unique keys of % without %: %', table_name, distribution_column, bad;
  END IF;
  SELECT string_agg(conname, ', ') INTO bad FROM pg_constraint
  WHERE conrelid = table_name AND contype = 'f'
    AND (NOT (col = ANY (conkey)) OR NOT EXISTS (
      SELECT 1 FROM citus_calls c WHERE c.relation = confrelid::regclass::text));
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'foreign keys of % that Citus refuses: %', table_name, bad;
  END IF;
  IF colocate_with NOT IN ('default', 'none') AND NOT EXISTS (
    SELECT 1 FROM citus_calls c WHERE c.kind = 'distributed' AND c.relation = colocate_with
  ) THEN
    RAISE EXCEPTION 'colocate_with % is not distributed yet', colocate_with;
  END IF;
  INSERT INTO citus_calls VALUES
    ('distributed', table_name::text, distribution_column, colocate_with, shard_count);
END $$;
CREATE FUNCTION create_reference_table(table_name regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO citus_calls (kind, relation) VALUES ('reference', table_name::text);
END $$;
`;

const COORDINATOR_LOCAL = new Set(["schema_migrations"]);
/** Tables without tenant_id that sql/citus/02_distribute.sql makes reference tables. */
const REFERENCE_TABLES = new Set(["campaign_metrics_retention"]);

for (const engine of ENGINES) {
  Deno.test({
    name:
      `Citus: keys lead with tenant_id and sql/citus distributes every tenant table (${engine.name})`,
    ignore: engine.missing,
    async fn() {
      const db = await engine.open();
      try {
        await db.driver.session(async (session) => {
          // What the app's migrations build: only the journal's two ids do not lead
          // with tenant_id, and 01_keys.sql is there for them.
          assert.deepEqual(await keysNotLedByTenant(session), [
            "ingest_rejects_pkey",
            "ingest_runs_pkey",
          ]);
          for (const table of await tables(session)) {
            if (COORDINATOR_LOCAL.has(table.name) || REFERENCE_TABLES.has(table.name)) continue;
            assert.ok(table.tenant, `${table.name} has tenant_id NOT NULL`);
          }
          for (const statement of splitStatements(CITUS_STAND_INS)) {
            await session.query(statement);
          }
          for (const script of citusScripts()) {
            for (const statement of splitStatements(script.sql)) {
              try {
                await session.query(statement);
              } catch (error) {
                assert.fail(`${script.name}: ${statement}\n${error}`);
              }
            }
          }
          assert.deepEqual(await keysNotLedByTenant(session), [], "after 01_keys.sql");

          const calls = await session.query<{
            kind: string;
            table_name: string;
            distribution_column: string | null;
            colocate_with: string | null;
          }>(
            `SELECT kind, relation AS table_name, dist_column AS distribution_column,
                    colocated_with AS colocate_with FROM citus_calls`,
          );
          const distributed = calls.filter((call) => call.kind === "distributed");
          const reference = calls.filter((call) => call.kind === "reference");
          const anchor = distributed[0];
          assert.equal(anchor.table_name, "campaign_metrics", "campaign_metrics first");
          for (const call of distributed) {
            assert.equal(call.distribution_column, "tenant_id", call.table_name);
            if (call !== anchor) {
              assert.equal(call.colocate_with, "campaign_metrics", `${call.table_name} co-located`);
            }
          }
          // Every table has its place: distributed by tenant, reference, or coordinator-local.
          for (const table of await tables(session)) {
            if (table.name === "citus_calls" || COORDINATOR_LOCAL.has(table.name)) continue;
            const placed = table.tenant
              ? distributed.some((call) => call.table_name === table.name)
              : reference.some((call) => call.table_name === table.name);
            assert.ok(
              placed,
              `sql/citus/02_distribute.sql places ${table.name} (${
                table.tenant ? "create_distributed_table" : "create_reference_table"
              })`,
            );
          }
          for (const rollup of ["campaign_monthly", "platform_hourly"]) {
            assert.ok(distributed.some((call) => call.table_name === rollup));
          }
        });
      } finally {
        await db.dispose();
      }
    },
  });
}

// ---------------------------------------------------------------------------------------
// Query shapes
// ---------------------------------------------------------------------------------------

interface Sent {
  text: string;
  params: readonly SqlParam[];
}

function recording(driver: SqlDriver, sent: Sent[]): SqlDriver {
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query(text, params = []) {
      sent.push({ text, params });
      return executor.query(text, params);
    },
    // Only into the connection's own temporary staging table (no tenant table).
    copyFrom: (table, columns, rows) => executor.copyFrom(table, columns, rows),
  });
  return {
    kind: driver.kind,
    ...wrap(driver),
    transaction: (work) => driver.transaction((tx) => work(wrap(tx))),
    session: (work) => driver.session((session) => work(wrap(session))),
    close: () => driver.close(),
  };
}

const TENANT_TABLES =
  /\b(?:FROM|JOIN|INTO|UPDATE)\s+(campaign_metrics|campaigns|campaign_monthly|platform_hourly|ad_accounts|ingest_runs|ingest_rejects)\b/gi;

const row = (tenant: string, campaign: string, ts: string, platform = "google") => ({
  tenant_id: tenant,
  platform,
  account_id: "111",
  campaign_id: campaign,
  campaign_name: `Campaign ${campaign}`,
  ts,
  impressions: 1000,
  clicks: 50,
  conversions: "2.5",
  cost: "10.10",
  revenue: "40.40",
  currency: "USD",
  source: "test",
});

/** Every parameter value, arrays flattened. */
const values = (params: readonly SqlParam[]) =>
  params.flatMap((param) => Array.isArray(param) ? param : [param]);

Deno.test({
  name: "Citus: every store read filters on tenant_id = $n; every write holds one tenant's rows",
  async fn() {
    const engine = ENGINES[0]; // PGlite: the statements are the same text on every engine
    const db = await engine.open();
    const sent: Sent[] = [];
    const driver = recording(db.driver, sent);
    const store = new SqlMetricsStore(driver);
    const journal = new IngestJournal(driver);
    const TENANT = "acme";
    const OTHER = "globex";
    try {
      // Another tenant's rows exist: nothing below may mention that tenant.
      await new SqlMetricsStore(db.driver).upsert([
        row(OTHER, "cmp-9", "2024-04-02T10:00:00Z"),
      ]);

      await store.upsert([
        row(TENANT, "cmp-1", "2024-03-31T22:00:00Z"),
        row(TENANT, "cmp-1", "2024-04-01T10:00:00Z"),
        row(TENANT, "cmp-2", "2024-04-15T10:00:00Z", "meta"),
        row(TENANT, "cmp-2", "2024-05-03T10:30:00Z", "meta"),
      ]);
      await store.upsertCampaigns([{
        tenant_id: TENANT,
        platform: "google",
        campaign_id: "cmp-1",
        account_id: "111",
        name: "Spring",
        status: "ACTIVE",
        started_at: new Date("2024-03-30T00:00:00Z"),
      }]);
      const ragged = {
        tenantId: TENANT,
        from: new Date("2024-03-31T12:00:00Z"),
        to: new Date("2024-05-04T00:00:00Z"),
      };
      const april = {
        tenantId: TENANT,
        from: new Date("2024-04-01T00:00:00Z"),
        to: new Date("2024-05-01T00:00:00Z"),
      };
      await store.totals(ragged);
      await store.totals({ ...ragged, platforms: ["meta"], currency: "USD" });
      await store.totals({ tenantId: TENANT });
      await store.totals({ ...ragged, campaignIds: ["cmp-1"] });
      for (const granularity of ["day", "week", "month"] as const) {
        await store.series(ragged, granularity, "Europe/Berlin");
      }
      await store.series(ragged, "day", "Asia/Kolkata"); // raw rows: a half-hour zone
      for (const groupBy of ["campaign", "platform"] as const) {
        for (const range of [ragged, april]) {
          await store.rank(range, { groupBy, metric: "roas", order: "desc", limit: 10 });
        }
      }
      const page = await store.listCampaigns({ tenantId: TENANT, limit: 1 });
      assert.ok(page.next_cursor);
      await store.listCampaigns({ tenantId: TENANT, limit: 1, cursor: page.next_cursor });
      const spend = await store.listCampaigns({ tenantId: TENANT, sort: "spend", limit: 1 });
      await store.listCampaigns({
        tenantId: TENANT,
        sort: "spend",
        limit: 1,
        cursor: spend.next_cursor ?? undefined,
        q: "cmp",
        platforms: ["google", "meta"],
      });
      await store.latestCampaigns(TENANT);
      await store.latestCampaigns(TENANT, ["meta"]);
      await store.findCampaign(TENANT, "cmp-1");

      const runId = await journal.startRun({
        tenantId: TENANT,
        source: "meta",
        accountId: "111",
        slot: new Date("2024-04-01T00:15:00Z"),
        window: { from: "2024-03-04", to: "2024-04-01" },
        runner: "test:1",
      });
      assert.ok(runId !== null);
      await journal.addToRun(runId, 3, 1);
      await journal.deadLetter(TENANT, "meta", runId, [
        { index: 0, field: "cost", error: "negative", payload: { cost: -1 } },
      ]);
      await journal.finishRun(runId, { status: "succeeded", accepted: 3, rejected: 1 });
      await journal.abandonStaleRuns(TENANT, "meta", "111");
      await journal.abandonSilentRuns(TENANT, "meta", "111", 60_000);
      await journal.upsertAccount({
        tenantId: TENANT,
        platform: "meta",
        accountId: "111",
        name: "Acme",
        currency: "USD",
        timeZone: "Europe/Berlin",
      });
      await journal.recentRejects(TENANT);
      await journal.sourceStatus(TENANT);

      const reads: Sent[] = [];
      const writes: Sent[] = [];
      for (const statement of sent) {
        if (![...statement.text.matchAll(TENANT_TABLES)].length) continue; // locks, SELECT 1
        if (/\b(INSERT|UPDATE|DELETE)\b/i.test(statement.text)) writes.push(statement);
        else reads.push(statement);
        assert.ok(
          !values(statement.params).includes(OTHER),
          `no other tenant in:\n${statement.text}`,
        );
      }
      assert.ok(reads.length >= 20, `recorded ${reads.length} reads`);
      for (const { text, params } of reads) {
        // Every reference to a tenant table sits in a query that pins the tenant: as
        // many `tenant_id = $n` filters bound to the tenant as tables read.
        const filters = [...text.matchAll(/\btenant_id\s*=\s*\$(\d+)/g)]
          .filter((match) => params[Number(match[1]) - 1] === TENANT);
        const tablesRead = [...text.matchAll(TENANT_TABLES)].length;
        assert.ok(
          filters.length >= tablesRead,
          `${tablesRead} tenant tables read, ${filters.length} tenant filters:\n${text}`,
        );
      }
      // Writes: one tenant per statement. Those that name the tenant only inside arrays
      // (the batch upserts) or not at all (journal updates by run id) are the ones
      // docs/scaling.md lists as changes before Citus can route them to one shard.
      const unrouted: string[] = [];
      for (const { text, params } of writes) {
        const tenants = new Set(
          values(params).filter((value) => value === TENANT || value === OTHER),
        );
        const pinned = [...text.matchAll(/\btenant_id\s*=\s*\$(\d+)/g)]
          .some((match) => params[Number(match[1]) - 1] === TENANT);
        const scalar = params.some((param) => param === TENANT);
        assert.ok(tenants.size <= 1, `one tenant per write:\n${text}`);
        if (!pinned && !scalar) unrouted.push(firstTarget(text));
      }
      assert.deepEqual(
        [...new Set(unrouted)].sort(),
        [
          "INSERT INTO campaign_metrics",
          "INSERT INTO campaigns",
          "UPDATE ingest_runs",
        ],
        "the writes docs/scaling.md lists as not yet routable by their text",
      );
    } finally {
      await db.dispose();
    }
  },
});

function firstTarget(text: string): string {
  const match = /\b(INSERT INTO|UPDATE)\s+(\w+)/i.exec(text);
  return match ? `${match[1].toUpperCase()} ${match[2]}` : text.slice(0, 40);
}
