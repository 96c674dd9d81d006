/**
 * The store's write path: a batch of validated rows COPied into a temporary staging
 * table, a chunk at a time, and applied by one set-based statement (APPLY_STAGED_SQL)
 * that writes the raw rows, the change of every rollup and the catalog. Writers of one
 * ad account are serialized by a transaction-scoped advisory lock (LOCK_ACCOUNTS_SQL).
 */
import { copyField, type SqlExecutor } from "./driver.ts";
import type { MetricRow } from "../schema.ts";
import {
  APPLY_STAGED_SQL,
  CREATE_STAGE_SQL,
  LOCK_ACCOUNTS_SQL,
  ROWS_PER_STATEMENT,
  STAGE_COLUMNS,
  STAGE_TABLE,
} from "./sql_queries.ts";

/** Validated rows upserted with their rollups, a chunk at a time (callers hold a transaction). */
export async function upsertRows(tx: SqlExecutor, rows: readonly MetricRow[]): Promise<void> {
  const chunks = stagedChunks(rows);
  for (let i = 0; i < chunks.length; i++) await upsertChunk(tx, chunks[i], i === 0);
}

/**
 * One chunk of a batch: the accounts locked, the rows COPied into the staging table,
 * then one set-based statement applies them.
 */
async function upsertChunk(tx: SqlExecutor, chunk: StagedChunk, first: boolean): Promise<void> {
  const [lock] = await tx.query<{ staged: boolean }>(LOCK_ACCOUNTS_SQL, [chunk.accounts]);
  if (!lock.staged) await tx.query(CREATE_STAGE_SQL);
  // A later chunk of the same transaction: the staging table still holds the last one.
  else if (!first) await tx.query(`TRUNCATE ${STAGE_TABLE}`);
  await tx.copyFrom(STAGE_TABLE, STAGE_COLUMNS, chunk.copy);
  await tx.query(APPLY_STAGED_SQL, chunk.catalog);
}

/** What one chunk sends (see stagedChunks). */
interface StagedChunk {
  /** The rows in COPY text format, STAGE_COLUMNS order. */
  copy: string;
  /** The distinct "tenant/platform/account" keys to lock. */
  accounts: string[];
  /** APPLY_STAGED_SQL's $1..$9: the catalog's change, one element per campaign. */
  catalog: unknown[];
}

interface CatalogChange {
  last: MetricRow;
  name: string | null;
  status: string | null;
  first: Date;
  lastSeen: Date;
}

/**
 * The batch as the chunks to stage, at most ROWS_PER_STATEMENT rows each: the last
 * occurrence of each raw key only, over the whole batch (so that replaying a batch
 * rewrites nothing, even when a key repeats across chunks), in the order of those last
 * occurrences. The catalog's change of each campaign is the account, currency and (when
 * given) name and status of its last row, and the first and last instants it covers.
 *
 * Two passes of string building and map lookups: this is per-row work on the thread
 * that also serves requests.
 */
function stagedChunks(rows: readonly MetricRow[]): StagedChunk[] {
  // A row's key fields as its COPY line starts: the line's prefix is the key.
  const prefixes = new Array<string>(rows.length);
  const lastIndex = new Map<string, number>();
  const instants = new Map<number, string>(); // hourly rows share few instants
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const time = row.ts.getTime();
    let instant = instants.get(time);
    if (instant === undefined) instants.set(time, instant = row.ts.toISOString());
    const prefix = `${copyField(row.tenant_id)}\t${row.platform}\t${copyField(row.account_id)}\t${
      copyField(row.campaign_id)
    }\t${instant}`;
    prefixes[i] = prefix;
    lastIndex.set(prefix, i);
  }
  const chunks: StagedChunk[] = [];
  let copy = "";
  let staged = 0;
  let accounts = new Set<string>();
  let campaigns = new Map<string, CatalogChange>();
  let previous: MetricRow | undefined;
  let change: CatalogChange | undefined;
  const close = () => {
    chunks.push({ copy, accounts: [...accounts], catalog: catalogParams(campaigns) });
    copy = "";
    staged = 0;
    accounts = new Set();
    campaigns = new Map();
    previous = undefined;
  };
  for (let i = 0; i < rows.length; i++) {
    if (lastIndex.get(prefixes[i]) !== i) continue;
    if (staged === ROWS_PER_STATEMENT) close();
    const row = rows[i];
    copy += `${
      prefixes[i]
    }\t${row.impressions}\t${row.clicks}\t${row.conversions}\t${row.cost}\t${row.revenue}\t${row.currency}\t${
      copyField(row.source)
    }\n`;
    staged++;
    // Rows come grouped by campaign as a rule: look the campaign up only when it changes.
    if (
      !previous || previous.campaign_id !== row.campaign_id ||
      previous.platform !== row.platform || previous.tenant_id !== row.tenant_id
    ) {
      const key = `${row.tenant_id}\0${row.platform}\0${row.campaign_id}`;
      change = campaigns.get(key);
      if (!change) {
        change = { last: row, name: null, status: null, first: row.ts, lastSeen: row.ts };
        campaigns.set(key, change);
      }
    }
    if (
      !previous || previous.account_id !== row.account_id ||
      previous.platform !== row.platform || previous.tenant_id !== row.tenant_id
    ) accounts.add(`${row.tenant_id}/${row.platform}/${row.account_id}`);
    previous = row;
    change!.last = row;
    if (row.campaign_name != null) change!.name = row.campaign_name;
    if (row.campaign_status != null) change!.status = row.campaign_status;
    if (row.ts < change!.first) change!.first = row.ts;
    if (row.ts > change!.lastSeen) change!.lastSeen = row.ts;
  }
  if (staged > 0) close();
  return chunks;
}

function catalogParams(campaigns: Map<string, CatalogChange>): unknown[] {
  const entries = [...campaigns.values()];
  const column = <T>(pick: (entry: CatalogChange) => T) => entries.map(pick);
  return [
    column((e) => e.last.tenant_id),
    column((e) => e.last.platform),
    column((e) => e.last.campaign_id),
    column((e) => e.last.account_id),
    column((e) => e.name),
    column((e) => e.status),
    column((e) => e.last.currency),
    column((e) => e.first.toISOString()),
    column((e) => e.lastSeen.toISOString()),
  ];
}
