import assert from "node:assert/strict";
import { ConfigError } from "../../lib/config.ts";
import { loadIngestConfig } from "../../ingest/ingest_settings.ts";
import {
  backfillWindow,
  campaignMetadata,
  createFakeSource,
  windowInstants,
} from "../../ingest/fake.ts";
import { createFakeCatalog, type FakeCatalog } from "../../ingest/fake_catalog.ts";
import {
  DAILY_BUDGET_LADDERS,
  FakeConfigSchema,
  PLATFORM_RANGES,
} from "../../ingest/fake_model.ts";
import { type FakeRow, fakeRows } from "../../ingest/fake_rows.ts";
import { SourceError } from "../../ingest/source.ts";
import { PLATFORMS, validateRows } from "../../lib/schema.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A Wednesday afternoon, 20 minutes into the hour. */
const NOW = new Date("2024-04-24T15:20:00Z");

function backfillRows(catalog: FakeCatalog, now = NOW): FakeRow[] {
  return fakeRows(catalog, { ...windowInstants(backfillWindow(now), "UTC"), now });
}

function cents(money: string): number {
  assert.match(money, /^\d+\.\d{2}$/);
  return Number(money.replace(".", ""));
}

// One catalog and backfill shared by the read-only checks below.
const catalog = createFakeCatalog({ now: NOW });
const rows = backfillRows(catalog);

Deno.test("config: defaults, env parsing, and errors that name the variable", async (t) => {
  await t.step("defaults", () => {
    assert.deepEqual(FakeConfigSchema.parse({}), { seed: 42, campaigns: 50, tenantId: "default" });
    const ingest = loadIngestConfig({ FAKE_SEED: "", FAKE_CAMPAIGNS: " " });
    assert.deepEqual([ingest.FAKE_SEED, ingest.FAKE_CAMPAIGNS, ingest.INGEST_TENANT], [
      42,
      50,
      "default",
    ]);
  });

  await t.step("values from the environment", () => {
    const ingest = loadIngestConfig({
      FAKE_SEED: " 7 ",
      FAKE_CAMPAIGNS: "120",
      INGEST_TENANT: "acme",
    });
    assert.deepEqual([ingest.FAKE_SEED, ingest.FAKE_CAMPAIGNS, ingest.INGEST_TENANT], [
      7,
      120,
      "acme",
    ]);
    assert.equal(loadIngestConfig({ FAKE_SEED: "-3" }).FAKE_SEED, -3);
  });

  await t.step("malformed values: one ConfigError naming every variable, never a value", () => {
    const cases: [Record<string, string>, string][] = [
      [{ FAKE_SEED: "abc" }, "FAKE_SEED"],
      [{ FAKE_SEED: "1.5" }, "FAKE_SEED"],
      [{ FAKE_CAMPAIGNS: "0" }, "FAKE_CAMPAIGNS"],
      [{ FAKE_CAMPAIGNS: "ten" }, "FAKE_CAMPAIGNS"],
      [{ INGEST_TENANT: "a b" }, "INGEST_TENANT"],
    ];
    for (const [env, variable] of cases) {
      assert.throws(() => loadIngestConfig(env), (error) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.deepEqual(error.invalid.map((item) => item.variable), [variable]);
        assert.ok(!error.message.includes(Object.values(env)[0]), "never echoes the value");
        return true;
      });
    }
    assert.throws(() => loadIngestConfig({ FAKE_SEED: "x", FAKE_CAMPAIGNS: "y" }), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.invalid.map((item) => item.variable).sort(), [
        "FAKE_CAMPAIGNS",
        "FAKE_SEED",
      ]);
      return true;
    });
  });
});

Deno.test("catalog: campaigns, platforms, accounts and names look real", async (t) => {
  await t.step("cmp-1 … cmp-50 by default, cmp-42 included, on all four platforms", () => {
    const ids = catalog.campaigns.map((campaign) => campaign.campaign_id);
    assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => `cmp-${i + 1}`));
    const cmp42 = catalog.campaigns.find((campaign) => campaign.campaign_id === "cmp-42");
    assert.ok(cmp42 && PLATFORMS.includes(cmp42.platform));
    assert.equal(cmp42.status, "ACTIVE", "cmp-42 is live by default (people ask about it)");
    assert.deepEqual(new Set(catalog.campaigns.map((c) => c.platform)), new Set(PLATFORMS));
  });

  await t.step("FAKE_CAMPAIGNS=120 gives 120 campaigns; 1 gives one", () => {
    const config = loadIngestConfig({ FAKE_CAMPAIGNS: "120" });
    const big = createFakeCatalog({ campaigns: config.FAKE_CAMPAIGNS, now: NOW });
    assert.equal(big.campaigns.length, 120);
    assert.equal(big.campaigns.at(-1)?.campaign_id, "cmp-120");
    assert.equal(new Set(big.campaigns.map((c) => c.name)).size, 120);
    assert.equal(createFakeCatalog({ campaigns: 1, now: NOW }).campaigns.length, 1);
  });

  await t.step("names are unique, human, and some use an en dash", () => {
    const names = catalog.campaigns.map((campaign) => campaign.name);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.filter((name) => name.includes(" – ")).length >= 10);
    assert.ok(names.every((name) => /^[A-Z]/.test(name) && !/cmp-/.test(name)));
    assert.ok(names.some((name) => /^Spring Sale \d{4}/.test(name)));
    const many = createFakeCatalog({ campaigns: 1000, now: NOW }).campaigns.map((c) => c.name);
    assert.equal(new Set(many).size, 1000, "names stay unique past the combinations");
  });

  await t.step("accounts: platform id styles, one currency each, one EUR and one GBP", () => {
    const shapes = { meta: /^[1-9]\d{14}$/, google: /^[1-9]\d{9}$/, linkedin: /^5\d{8}$/ };
    for (const account of catalog.accounts) {
      const shape = account.platform === "tiktok" ? /^7\d{18}$/ : shapes[account.platform];
      assert.match(account.account_id, shape);
      assert.ok(account.time_zone.includes("/"));
    }
    const currencies = catalog.accounts.map((account) => account.currency).sort();
    assert.equal(currencies.filter((currency) => currency === "EUR").length, 1);
    assert.equal(currencies.filter((currency) => currency === "GBP").length, 1);
    assert.ok(currencies.filter((currency) => currency === "USD").length >= 6);
    for (const platform of PLATFORMS) {
      assert.ok(catalog.accounts.filter((a) => a.platform === platform).length >= 2);
    }
    const currencyByAccount = new Map<string, Set<string>>();
    for (const row of rows) {
      const seen = currencyByAccount.get(row.account_id) ?? new Set();
      currencyByAccount.set(row.account_id, seen.add(row.currency));
    }
    for (const account of catalog.accounts) {
      assert.deepEqual(currencyByAccount.get(account.account_id), new Set([account.currency]));
    }
  });

  await t.step("launches spread over the last ~120 days, some recent; statuses; budgets", () => {
    const ages = catalog.campaigns.map((c) => (NOW.getTime() - c.started_at.getTime()) / DAY_MS);
    assert.ok(ages.every((age) => age > 0 && age <= 122));
    assert.ok(Math.max(...ages) >= 100);
    assert.ok(ages.filter((age) => age <= 7).length >= 2, "a few launched this week");
    const statuses = catalog.campaigns.map((campaign) => campaign.status);
    assert.equal(statuses.filter((status) => status === "ENDED").length, 1);
    assert.ok(statuses.filter((status) => status === "PAUSED").length >= 1);
    assert.ok(statuses.filter((status) => status === "ACTIVE").length >= 40);
    const ended = catalog.campaigns.find((campaign) => campaign.status === "ENDED");
    assert.ok(ended?.end_date && ended.stopped_at && ended.stopped_at < NOW);
    assert.ok(ended.end_date > ended.launch_date);
    for (const campaign of catalog.campaigns) {
      assert.equal(campaign.stopped_at !== null, campaign.status !== "ACTIVE");
      const budget = Number(campaign.daily_budget);
      assert.ok(DAILY_BUDGET_LADDERS[campaign.platform].includes(budget));
    }
    assert.ok(new Set(catalog.campaigns.map((c) => c.daily_budget)).size >= 6);
  });
});

Deno.test("determinism: the same seed gives the same rows, another seed others", () => {
  const window = { from: new Date(NOW.getTime() - 3 * DAY_MS), to: NOW, now: NOW };
  const again = fakeRows(createFakeCatalog({ seed: 42, now: NOW }), window);
  assert.deepEqual(again, fakeRows(catalog, window));
  assert.deepEqual(createFakeCatalog({ seed: 42, now: NOW }), catalog);
  const other = fakeRows(createFakeCatalog({ seed: 43, now: NOW }), window);
  assert.notDeepEqual(other, again);
  const otherCatalog = createFakeCatalog({ seed: 43, now: NOW });
  assert.notDeepEqual(otherCatalog.accounts, catalog.accounts);
});

Deno.test("determinism: an hour's values do not depend on the window it is read in", () => {
  const day = { from: new Date("2024-04-10T00:00:00Z"), to: new Date("2024-04-11T00:00:00Z") };
  const oneDay = fakeRows(catalog, { ...day, now: NOW });
  const key = (row: FakeRow) => `${row.campaign_id}@${row.ts.toISOString()}`;
  const fromBackfill = new Map(rows.map((row) => [key(row), row]));
  assert.ok(oneDay.length > 0);
  for (const row of oneDay) assert.deepEqual(row, fromBackfill.get(key(row)));
  // …nor on a later reading (the hour is complete either way).
  const later = fakeRows(catalog, { ...day, now: new Date(NOW.getTime() + 5 * DAY_MS) });
  assert.deepEqual(later, oneDay);
});

Deno.test("rows: valid unified rows with sane counts and exact money", async (t) => {
  await t.step("every row is valid under MetricRowSchema", () => {
    const { rows: valid, rejected } = validateRows(rows);
    assert.deepEqual(rejected, []);
    assert.equal(valid.length, rows.length);
    assert.equal(valid[0].source, "fake");
    assert.ok(rows.every((row) => row.campaign_name && row.campaign_status));
  });

  await t.step("clicks ≤ impressions, conversions ≤ clicks, nothing negative", () => {
    for (const row of rows) {
      const conversions = Number(row.conversions);
      assert.ok(Number.isInteger(row.impressions) && row.impressions >= 0);
      assert.ok(row.clicks <= row.impressions, `${row.campaign_id} ${row.ts.toISOString()}`);
      assert.ok(Number.isInteger(conversions) && conversions <= row.clicks);
      assert.ok(cents(row.cost) >= 0 && cents(row.revenue) >= 0);
      if (conversions === 0) assert.equal(row.revenue, "0.00");
    }
  });

  await t.step("hourly rows start on the hour and are never in the future", () => {
    for (const row of rows) {
      assert.equal(row.ts.getTime() % HOUR_MS, 0);
      assert.ok(row.ts < NOW);
    }
    assert.ok(rows.some((row) => row.ts.getTime() === NOW.getTime() - 20 * 60_000));
  });

  await t.step("the 90-day backfill has ~24 rows per campaign-day", () => {
    assert.ok(rows.length > 50_000, `${rows.length} rows`);
    const cmp1 = rows.filter((row) => row.campaign_id === "cmp-1");
    assert.equal(cmp1.length, 89 * 24 + 16, "launched before the window: every hour up to now");
  });
});

Deno.test("rows: no rows before launch or after an end or pause", () => {
  const byCampaign = Map.groupBy(rows, (row) => row.campaign_id);
  const windowStart = windowInstants(backfillWindow(NOW), "UTC").from;
  for (const campaign of catalog.campaigns) {
    const own = byCampaign.get(campaign.campaign_id) ?? [];
    assert.ok(own.every((row) => row.ts >= campaign.started_at));
    if (campaign.stopped_at) {
      const stoppedAt = campaign.stopped_at;
      assert.ok(own.every((row) => row.ts < stoppedAt));
    }
    if (campaign.started_at > windowStart) {
      assert.equal(own[0]?.ts.getTime(), campaign.started_at.getTime(), campaign.campaign_id);
    }
  }
  const launchedRecently = catalog.campaigns.filter((c) => c.started_at > windowStart);
  assert.ok(launchedRecently.length >= 10);
});

/** Ratios of sums per platform. */
function platformRatios(sample: readonly FakeRow[]) {
  const sums = new Map<string, number[]>();
  for (const row of sample) {
    const sum = sums.get(row.platform) ?? [0, 0, 0, 0, 0];
    sum[0] += row.impressions;
    sum[1] += row.clicks;
    sum[2] += Number(row.conversions);
    sum[3] += cents(row.cost);
    sum[4] += cents(row.revenue);
    sums.set(row.platform, sum);
  }
  return new Map(
    [...sums].map(([platform, [impressions, clicks, conversions, cost, revenue]]) => [
      platform,
      {
        ctr: clicks / impressions,
        cpc: cost / 100 / clicks,
        cvr: conversions / clicks,
        roas: revenue / cost,
      },
    ]),
  );
}

Deno.test("realism: aggregate CTR, CPC, CVR and ROAS per platform fall in the documented ranges", () => {
  for (const seed of [42, 1, 7, 2024]) {
    const sample = seed === 42 ? rows : backfillRows(createFakeCatalog({ seed, now: NOW }));
    const ratios = platformRatios(sample);
    assert.equal(ratios.size, 4);
    for (const [platform, observed] of ratios) {
      const ranges = PLATFORM_RANGES[platform as keyof typeof PLATFORM_RANGES];
      for (const metric of ["ctr", "cpc", "cvr", "roas"] as const) {
        const { min, max } = ranges[metric];
        const value = observed[metric];
        assert.ok(
          value >= min && value <= max,
          `seed ${seed} ${platform} ${metric} ${value} outside [${min}, ${max}]`,
        );
      }
    }
  }
});

/** The hour of day and weekday of an instant in a zone (cached: few distinct hours). */
const localTimes = new Map<string, { hour: number; weekday: string }>();
function localTime(ts: Date, zone: string) {
  const key = `${zone}|${ts.getTime()}`;
  let local = localTimes.get(key);
  if (!local) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      hour: "2-digit",
      weekday: "short",
    }).formatToParts(ts);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
    local = { hour: Number(part("hour")), weekday: part("weekday") };
    localTimes.set(key, local);
  }
  return local;
}

Deno.test("realism: night hours are quieter than evening hours, LinkedIn dips on weekends", () => {
  const zoneOf = new Map(catalog.accounts.map((a) => [a.account_id, a.time_zone]));
  const recent = rows.filter((row) => row.ts.getTime() >= NOW.getTime() - 28 * DAY_MS);
  for (const platform of PLATFORMS) {
    let night = 0;
    let evening = 0;
    for (const row of recent.filter((r) => r.platform === platform)) {
      const { hour } = localTime(row.ts, zoneOf.get(row.account_id)!);
      if (hour >= 1 && hour <= 5) night += row.impressions;
      if (hour >= 18 && hour <= 22) evening += row.impressions;
    }
    assert.ok(night * 2 < evening, `${platform}: night ${night} vs evening ${evening}`);
  }
  let weekend = 0;
  let weekday = 0;
  for (const row of recent.filter((r) => r.platform === "linkedin")) {
    const { weekday: day } = localTime(row.ts, zoneOf.get(row.account_id)!);
    if (day === "Sat" || day === "Sun") weekend += cents(row.cost) / 2;
    else weekday += cents(row.cost) / 5;
  }
  assert.ok(weekend < weekday * 0.7, `linkedin weekend ${weekend} vs weekday ${weekday}`);
});

Deno.test("current hour: grows monotonically within the hour and ends as the full hour", () => {
  const hourStart = new Date("2024-04-24T15:00:00Z");
  const window = { from: hourStart, to: new Date(hourStart.getTime() + HOUR_MS) };
  const readAt = (now: Date) => fakeRows(catalog, { ...window, now });
  assert.deepEqual(readAt(hourStart), [], "an hour that has not begun has no rows");
  let previous = readAt(new Date(hourStart.getTime() + 1));
  const measures = (row: FakeRow) => [
    row.impressions,
    row.clicks,
    Number(row.conversions),
    cents(row.cost),
    cents(row.revenue),
  ];
  for (let seconds = 7; seconds <= 3600; seconds += 7 * 13) {
    const current = readAt(new Date(hourStart.getTime() + seconds * 1000));
    assert.equal(current.length, previous.length);
    current.forEach((row, i) => {
      assert.equal(row.ts.getTime(), hourStart.getTime());
      const before = measures(previous[i]);
      measures(row).forEach((value, m) => assert.ok(value >= before[m], `${row.campaign_id}`));
    });
    previous = current;
  }
  const atEnd = readAt(new Date(hourStart.getTime() + HOUR_MS));
  const muchLater = readAt(new Date(hourStart.getTime() + 10 * DAY_MS));
  assert.deepEqual(atEnd, muchLater);
  const justBefore = readAt(new Date(hourStart.getTime() + HOUR_MS - 1));
  assert.ok(
    justBefore.some((row, i) =>
      row.cost !== atEnd[i].cost || row.impressions !== atEnd[i].impressions
    ),
  );
  // A few seconds apart: the totals grow, the rows (keys) stay the same.
  const total = (sample: FakeRow[]) => sample.reduce((sum, row) => sum + row.impressions, 0);
  const first = readAt(new Date(hourStart.getTime() + 20 * 60_000));
  const second = readAt(new Date(hourStart.getTime() + 20 * 60_000 + 5_000));
  assert.ok(total(second) > total(first));
});

Deno.test("source: accounts, batches with metadata, idempotent growth, errors", async (t) => {
  let clock = NOW;
  const source = createFakeSource({ seed: 42, now: () => clock });

  await t.step("name, tenant and accounts", () => {
    assert.equal(source.name, "fake");
    assert.equal(source.tenantId, "default");
    assert.deepEqual(source.accounts(), catalog.accounts.map((account) => account.account_id));
  });

  await t.step("fetch: one account's rows for the window's days, up to now", async () => {
    const eur = catalog.accounts.find((account) => account.currency === "EUR")!;
    const batch = await source.fetch(eur.account_id, { from: "2024-04-20", to: "2024-04-24" });
    assert.deepEqual(batch.account, {
      account_id: eur.account_id,
      currency: "EUR",
      time_zone: "Europe/Berlin",
      name: eur.name,
    });
    const own = catalog.campaigns.filter((campaign) => campaign.account_id === eur.account_id);
    assert.deepEqual(batch.campaigns.map((c) => c.campaign_id), own.map((c) => c.campaign_id));
    for (const meta of batch.campaigns) {
      assert.ok(meta.name && meta.status && meta.started_at instanceof Date);
      assert.equal(meta.tenant_id, "default");
    }
    const fetched = batch.rows as FakeRow[];
    assert.ok(fetched.length > 0);
    assert.ok(fetched.every((row) => row.account_id === eur.account_id && row.currency === "EUR"));
    assert.ok(fetched.every((row) => row.ts < NOW));
    const first = Math.min(...fetched.map((row) => row.ts.getTime()));
    assert.ok(first <= new Date("2024-04-19T22:00:00Z").getTime(), "covers Berlin's first day");
    assert.deepEqual(validateRows(fetched).rejected, []);
  });

  await t.step(
    "two reads seconds apart: same rows, larger numbers in the current hour",
    async () => {
      const account = catalog.campaigns.find((c) => c.campaign_id === "cmp-42")!.account_id;
      const window = { from: "2024-04-24", to: "2024-04-24" };
      clock = new Date("2024-04-24T15:20:00Z");
      const before = (await source.fetch(account, window)).rows as FakeRow[];
      clock = new Date("2024-04-24T15:20:09Z");
      const after = (await source.fetch(account, window)).rows as FakeRow[];
      const keys = (sample: FakeRow[]) =>
        sample.map((r) => `${r.campaign_id}@${r.ts.toISOString()}`);
      assert.deepEqual(keys(after), keys(before));
      const sumCost = (sample: FakeRow[]) => sample.reduce((sum, row) => sum + cents(row.cost), 0);
      assert.ok(sumCost(after) > sumCost(before));
      clock = NOW;
    },
  );

  await t.step("unknown accounts, malformed windows and aborts fail", async () => {
    await assert.rejects(
      source.fetch("123", { from: "2024-04-01", to: "2024-04-02" }),
      SourceError,
    );
    await assert.rejects(source.fetch(source.accounts()[0], { from: "x", to: "y" }), SourceError);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      source.fetch(
        source.accounts()[0],
        { from: "2024-04-01", to: "2024-04-01" },
        controller.signal,
      ),
    );
  });

  await t.step("campaign metadata for the whole catalog", () => {
    const all = campaignMetadata(catalog);
    assert.equal(all.length, 50);
    assert.ok(all.every((meta) => meta.started_at instanceof Date && meta.started_at < NOW));
  });
});

Deno.test("backfillWindow: the last N UTC calendar days, today included", () => {
  assert.deepEqual(backfillWindow(NOW), { from: "2024-01-26", to: "2024-04-24" });
  assert.deepEqual(backfillWindow(NOW, 1), { from: "2024-04-24", to: "2024-04-24" });
  assert.throws(() => backfillWindow(NOW, 0), RangeError);
  assert.deepEqual(windowInstants({ from: "2024-04-24", to: "2024-04-24" }, "UTC"), {
    from: new Date("2024-04-24T00:00:00Z"),
    to: new Date("2024-04-25T00:00:00Z"),
  });
});

// Speed is the benchmark's business (a timed assertion here fails on a busy machine).
Deno.test("a 90-day backfill of 86 campaigns is ~108k hourly rows, generated in one pass", () => {
  // 86 campaigns: with launches spread over 120 days, a 90-day window holds ~108k rows.
  const big = createFakeCatalog({ campaigns: 86, now: NOW });
  const range = { from: new Date(NOW.getTime() - 90 * DAY_MS), to: NOW, now: NOW };
  const generated = fakeRows(big, range);
  assert.ok(generated.length >= 100_000, `${generated.length} rows`);
  assert.deepEqual(fakeRows(big, range), generated, "the same range gives the same rows");
});
