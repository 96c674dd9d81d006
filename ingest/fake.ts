/**
 * The fake data source: a deterministic advertiser (fake_catalog.ts) whose campaigns
 * report hourly rows that look like real reports (fake_rows.ts, shaped by fake_model.ts),
 * served through the same `Source` interface as the platform connectors, so the whole
 * system can be run, demonstrated and benchmarked without any ad platform.
 *
 * Pure: no Deno APIs and no I/O, so ingest, tests and the benchmark can all use it.
 */
import { calendarDateIn, shiftDate, startOfDayIn } from "../lib/dates.ts";
import type { CampaignMetadata } from "../lib/store/metrics_store.ts";
import {
  type AccountInfo,
  type Source,
  type SourceBatch,
  SourceError,
  type SyncWindow,
  SyncWindowSchema,
} from "./source.ts";
import type { FakeConfigInput } from "./fake_model.ts";
import { createFakeCatalog, type FakeAccount, type FakeCatalog } from "./fake_catalog.ts";
import { fakeRows } from "./fake_rows.ts";

// ---------------------------------------------------------------------------------
// Windows and the Source
// ---------------------------------------------------------------------------------

/** The `days` calendar days (UTC) ending with `now`'s day, inclusive. */
export function backfillWindow(now: Date, days = 90): SyncWindow {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be ≥ 1, got ${days}`);
  const to = calendarDateIn(now, "UTC");
  return { from: shiftDate(to, -(days - 1)), to };
}

/**
 * The instants a window of calendar days covers. The Source contract says the days
 * are the account's; a caller counting in UTC is covered too (the union of both),
 * since hourly rows are upserts and a few extra edge hours do no harm.
 */
export function windowInstants(window: SyncWindow, timeZone: string): { from: Date; to: Date } {
  const dayAfter = shiftDate(window.to, 1);
  const from = Math.min(
    startOfDayIn(window.from, timeZone).getTime(),
    startOfDayIn(window.from).getTime(),
  );
  const to = Math.max(startOfDayIn(dayAfter, timeZone).getTime(), startOfDayIn(dayAfter).getTime());
  return { from: new Date(from), to: new Date(to) };
}

export interface FakeSourceOptions extends FakeConfigInput {
  /** The clock; the catalog is built once from its first reading. Default: the real clock. */
  now?: () => Date;
}

export interface FakeSource extends Source {
  readonly catalog: FakeCatalog;
}

/** The fake streamer as a Source: each fetch replays the deterministic data up to now. */
export function createFakeSource(options: FakeSourceOptions = {}): FakeSource {
  const clock = options.now ?? (() => new Date());
  const catalog = createFakeCatalog({ ...options, now: clock() });
  return {
    name: "fake",
    tenantId: catalog.tenantId,
    catalog,
    accounts: () => catalog.accounts.map((account) => account.account_id),
    // A promise executor turns the synchronous throws into rejections.
    fetch: (accountId, window, signal) =>
      new Promise((resolve) => {
        signal?.throwIfAborted();
        resolve(fetchBatch(catalog, accountId, window, clock()));
      }),
  };
}

function fetchBatch(
  catalog: FakeCatalog,
  accountId: string,
  window: SyncWindow,
  now: Date,
): SourceBatch {
  const account = catalog.accounts.find((candidate) => candidate.account_id === accountId);
  if (!account) throw new SourceError("fake", `unknown account ${accountId}`, "permanent");
  const parsedWindow = SyncWindowSchema.safeParse(window);
  if (!parsedWindow.success) {
    throw new SourceError("fake", `malformed window ${JSON.stringify(window)}`, "permanent");
  }
  const range = windowInstants(parsedWindow.data, account.time_zone);
  return {
    account: accountInfo(account),
    rows: fakeRows(catalog, { ...range, now, accountId }),
    campaigns: campaignMetadata(catalog, accountId),
  };
}

function accountInfo(account: FakeAccount): AccountInfo {
  return {
    account_id: account.account_id,
    currency: account.currency,
    time_zone: account.time_zone,
    name: account.name,
  };
}

/** Names, statuses and launch instants of the catalog's campaigns (optionally one account's). */
export function campaignMetadata(catalog: FakeCatalog, accountId?: string): CampaignMetadata[] {
  return catalog.campaigns
    .filter((campaign) => accountId === undefined || campaign.account_id === accountId)
    .map((campaign) => ({
      tenant_id: campaign.tenant_id,
      platform: campaign.platform,
      account_id: campaign.account_id,
      campaign_id: campaign.campaign_id,
      name: campaign.name,
      status: campaign.status,
      started_at: campaign.started_at,
    }));
}
