/**
 * `deno task bench`: API throughput and latency, ingestion rate and query latency at
 * scale, each beside a baseline measured in the same run on the same machine.
 *
 *   deno task bench                 full run (PostgreSQL/Redis when BENCH_DATABASE_URL /
 *                                   BENCH_REDIS_URL are set, else PGlite + memory cache)
 *   deno task bench:smoke           tiny sizes, ~1 s per HTTP route (also BENCH_SMOKE=1)
 *
 * Order: the scale data set (loaded once, reused) and the query latencies; then HTTP on
 * that data (the servers are separate processes); then ingestion, the heaviest writer,
 * last and into a scratch schema of its own that is dropped afterwards.
 *
 * Output: a table on stdout, every figure as JSON under bench/results/ (one file per run),
 * and (full runs) the run's summary rewritten in bench/RESULTS.md (one per database and cache).
 *
 * Knobs (environment): BENCH_SECTIONS (queries,http,ingest,backfill,import), BENCH_DURATION_S,
 * BENCH_WARMUP_S, BENCH_CONNECTIONS, BENCH_SINGLE_DURATION_S, BENCH_INGEST_ROWS,
 * BENCH_INGEST_BATCH, BENCH_SCALE_CAMPAIGNS, BENCH_SCALE_DAYS, BENCH_QUERY_RUNS,
 * BENCH_SCALE_SCHEMA (bench_scale), BENCH_OUT (JSON path), BENCH_RESULTS_MD (path, or
 * empty for none), BENCH_SERVER_LOG_LEVEL (the servers' LOG_LEVEL, default info).
 */
import { parseArgs } from "node:util";
import { createRedisClient } from "../runtime/cache_wiring.ts";
import {
  type BenchDb,
  dropPostgresSchema,
  openPglite,
  openPostgresSchema,
  scratchSchemaName,
  urlWithSearchPath,
} from "./db.ts";
import { type HttpPlan, runHttp } from "./http.ts";
import { runIngest } from "./ingest.ts";
import { runBackfillLatency } from "./backfill_latency.ts";
import { runImportBench } from "./import.ts";
import { type CandidateResult, runQueries, runSingleMonthCandidate } from "./queries.ts";
import {
  type BenchResults,
  type Machine,
  textReport,
  updateResultsMarkdown,
  verdicts,
} from "./report.ts";
import {
  campaignId,
  compareWithUpsert,
  isLoaded,
  loadScale,
  PLATFORMS,
  scaleRows,
  type ScaleSpec,
} from "./scale.ts";
import { round } from "./stats.ts";

const BENCH_DIR = new URL("./", import.meta.url);
const ROOT = new URL("../", import.meta.url);

type Section = "queries" | "http" | "ingest" | "backfill" | "import";
const SECTIONS: readonly Section[] = ["queries", "http", "ingest", "backfill", "import"];

export interface Plan {
  mode: "full" | "smoke";
  sections: Set<Section>;
  databaseUrl?: string;
  redisUrl?: string;
  ingest: { rows: number; batch: number };
  scale: ScaleSpec & { schema: string; persistent: boolean };
  queryRuns: number;
  /** Runs of the extra queries (no target; the unaligned ranking is slow at full size). */
  extraRuns: number;
  http: HttpPlan;
  serverLogLevel: string;
  out: string;
  resultsMd?: string;
  notes: string[];
}

function envNumber(name: string, fallback: number): number {
  const text = Deno.env.get(name)?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name}: expected a number, got "${text}"`);
  }
  return value;
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function makePlan(args: string[]): Plan {
  const { values } = parseArgs({
    args,
    options: { smoke: { type: "boolean" }, sections: { type: "string" }, out: { type: "string" } },
  });
  const smoke = values.smoke === true || ["1", "true"].includes(Deno.env.get("BENCH_SMOKE") ?? "");
  const databaseUrl = Deno.env.get("BENCH_DATABASE_URL")?.trim() || undefined;
  const redisUrl = Deno.env.get("BENCH_REDIS_URL")?.trim() || undefined;
  const embedded = !databaseUrl;
  const notes: string[] = [];
  const sectionsText = values.sections ?? Deno.env.get("BENCH_SECTIONS") ?? SECTIONS.join(",");
  const sections = new Set(
    sectionsText.split(",").map((s) => s.trim()).filter((s): s is Section =>
      (SECTIONS as readonly string[]).includes(s)
    ),
  );
  // Full size on PostgreSQL; on PGlite (single-threaded WebAssembly) the same sizes
  // would not fit the 10-minute budget, so they are scaled down and the output says so.
  const defaults = smoke
    ? {
      ingestRows: 2_000,
      batch: 500,
      campaigns: 10,
      days: 90,
      runs: 5,
      duration: 1,
      warmup: 0,
      single: 0,
    }
    : embedded
    ? {
      ingestRows: 250_000,
      batch: 10_000,
      campaigns: 1_000,
      days: 365,
      runs: 30,
      duration: 10,
      warmup: 2,
      single: 5,
    }
    : {
      ingestRows: 1_000_000,
      batch: 20_000,
      campaigns: 5_000,
      days: 365,
      runs: 30,
      duration: 10,
      warmup: 2,
      single: 5,
    };
  const campaigns = envNumber("BENCH_SCALE_CAMPAIGNS", defaults.campaigns);
  const days = envNumber("BENCH_SCALE_DAYS", defaults.days);
  const ingestRows = envNumber("BENCH_INGEST_ROWS", defaults.ingestRows);
  if (!smoke && embedded && ingestRows < 1_000_000) {
    notes.push(
      `embedded (PGlite) run: ingestion scaled down to ${
        ingestRows.toLocaleString("en-US")
      } rows ` +
        `(PGlite, single-threaded WebAssembly in this process, upserts ~16k rows/s and COPYs ` +
        `~28k rows/s here: 1,000,000 rows through both paths and the candidate-index run would ` +
        `take about 3 of the 10 minutes on their own)`,
    );
  }
  if (!smoke && embedded && campaigns * 4 * days < 7_300_000) {
    notes.push(
      `embedded (PGlite) run: scale data set reduced to ${
        campaigns.toLocaleString("en-US")
      } campaigns ` +
        `× 4 × ${days} days = ${(campaigns * 4 * days).toLocaleString("en-US")} rows, 20% of the ` +
        `full 7.3M (PGlite loads ~55k rows/s here: the full set would add ~2.5 minutes and ` +
        `~1.5 GB to a first run, on one single-threaded connection)`,
    );
  }
  const start = "2025-01-01";
  const startMs = Date.parse(`${start}T00:00:00Z`);
  const mid = startMs + Math.floor(days / 2) * DAY_MS;
  const quarter = days >= 181 ? 1 : 0;
  const quarterFrom = Date.UTC(2025, 3 * quarter, 1);
  const quarterTo = Date.UTC(2025, 3 * quarter + 3, 1) - DAY_MS;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const out = values.out ?? (Deno.env.get("BENCH_OUT")?.trim() ||
    new URL(
      `results/${stamp}-${smoke ? "smoke" : "full"}-${embedded ? "pglite" : "postgres"}.json`,
      BENCH_DIR,
    ).pathname);
  const resultsMdEnv = Deno.env.get("BENCH_RESULTS_MD");
  const resultsMd = resultsMdEnv !== undefined
    ? (resultsMdEnv.trim() || undefined)
    : smoke
    ? undefined
    : new URL("RESULTS.md", BENCH_DIR).pathname;
  return {
    mode: smoke ? "smoke" : "full",
    sections,
    databaseUrl,
    redisUrl,
    ingest: { rows: ingestRows, batch: envNumber("BENCH_INGEST_BATCH", defaults.batch) },
    scale: {
      tenant: "bench",
      campaigns,
      days,
      start,
      schema: Deno.env.get("BENCH_SCALE_SCHEMA")?.trim() || "bench_scale",
      persistent: !smoke,
    },
    queryRuns: envNumber("BENCH_QUERY_RUNS", defaults.runs),
    extraRuns: envNumber("BENCH_EXTRA_RUNS", smoke ? 2 : 5),
    http: {
      profileS: envNumber("BENCH_PROFILE_S", smoke ? 1 : 5),
      connections: envNumber("BENCH_CONNECTIONS", smoke ? 10 : 50),
      durationS: envNumber("BENCH_DURATION_S", defaults.duration),
      warmupS: envNumber("BENCH_WARMUP_S", defaults.warmup),
      singleDurationS: envNumber("BENCH_SINGLE_DURATION_S", defaults.single),
      adjacentBaselineS: envNumber("BENCH_ADJACENT_BASELINE_S", smoke ? 0 : 3),
      campaignPath: `/campaign/${campaignId(Math.min(42, campaigns))}/insights?from=${
        isoDay(mid - 15 * DAY_MS)
      }&to=${isoDay(mid + 14 * DAY_MS)}`,
      platformPath: `/insights?group_by=platform&from=${isoDay(quarterFrom)}&to=${
        isoDay(quarterTo)
      }`,
      last30Path: `/insights?from=${isoDay(startMs + (days - 30) * DAY_MS)}&to=${
        isoDay(startMs + (days - 1) * DAY_MS)
      }`,
      prompt: "What's the ROAS for my latest Google campaign?",
    },
    serverLogLevel: Deno.env.get("BENCH_SERVER_LOG_LEVEL")?.trim() || "info",
    out,
    resultsMd,
    notes,
  };
}

/** The commit and the working tree's changed files (outside bench/), when git can tell. */
async function codeInfo(): Promise<{ commit: string | null; changed_files: string[] }> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args,
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  };
  try {
    const commit = (await git("rev-parse", "HEAD"))?.trim() || null;
    const status = await git("status", "--porcelain", "--untracked-files=no");
    const changed = (status ?? "").split("\n").map((line) => line.slice(3).trim())
      .filter((file) => file && !file.startsWith("bench/"));
    return { commit, changed_files: changed };
  } catch {
    return { commit: null, changed_files: [] };
  }
}

async function machineInfo(plan: Plan, db: BenchDb | undefined): Promise<Machine> {
  let cpu = "unknown CPU";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch { /* not Linux */ }
  let database = plan.databaseUrl ? "PostgreSQL" : "PGlite";
  let settings: Record<string, string> | undefined;
  if (db) {
    const version = await db.driver.query<{ v: string }>("SELECT version() AS v");
    database = db.kind === "postgres"
      ? `PostgreSQL ${(/PostgreSQL ([\d.]+)/.exec(version[0].v) ?? [])[1] ?? version[0].v}`
      : `PGlite (${
        (/PostgreSQL [\d.]+/.exec(version[0].v) ?? [version[0].v])[0]
      }, WebAssembly, in process)`;
    if (db.kind === "postgres") {
      const rows = await db.driver.query<{ name: string; setting: string }>(
        `SELECT name, current_setting(name) AS setting FROM unnest(ARRAY['shared_buffers',
           'work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit',
           'synchronous_commit']) AS name`,
      );
      settings = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    }
  }
  let cache = "memory (in-process LRU)";
  if (plan.redisUrl) {
    cache = "Redis";
    const client = createRedisClient(plan.redisUrl);
    try {
      if (await client.waitUntilReady(2_000)) {
        const info = String(await client.sendCommand(["INFO", "server"]));
        cache = `Redis ${/redis_version:([^\r\n]+)/.exec(info)?.[1] ?? ""}`.trim();
      }
    } finally {
      await client.close();
    }
  }
  return {
    cores: navigator.hardwareConcurrency,
    memory_gib: round(Deno.systemMemoryInfo().total / 1024 ** 3, 1),
    cpu,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    database,
    ...(settings ? { database_settings: settings } : {}),
    cache,
  };
}

/** Opens the scale data set, loading it unless an identical one is already there. */
async function openScale(
  plan: Plan,
  log: (line: string) => void,
): Promise<
  {
    db: BenchDb;
    where: string;
    dir?: string;
    reused: boolean;
    load_s: number;
    steps_s: Record<string, number>;
  }
> {
  const spec: ScaleSpec = plan.scale;
  if (plan.databaseUrl) {
    const schema = plan.scale.persistent ? plan.scale.schema : scratchSchemaName("bench_smoke");
    let db = await openPostgresSchema(plan.databaseUrl, schema, { max: 4 });
    if (plan.scale.persistent) {
      if (await isLoaded(db, spec)) {
        return { db, where: `PostgreSQL schema ${schema}`, reused: true, load_s: 0, steps_s: {} };
      }
      // A fresh schema: exactly what the migrations create, then the load.
      await db.close();
      await dropPostgresSchema(plan.databaseUrl, schema);
      db = await openPostgresSchema(plan.databaseUrl, schema, { max: 4 });
    }
    log(`  loading ${scaleRows(spec).toLocaleString("en-US")} rows into schema ${schema}`);
    const url = plan.databaseUrl;
    const load = await loadScale(db, spec, log).catch(async (error) => {
      // A scratch schema must not outlive a failed load.
      await db.close().catch(() => {});
      if (!plan.scale.persistent) await dropPostgresSchema(url, schema).catch(() => {});
      throw error;
    });
    await db.driver.query("CHECKPOINT");
    return {
      db,
      where: `PostgreSQL schema ${schema}`,
      reused: false,
      load_s: load.load_s,
      steps_s: load.steps_s,
    };
  }
  const dir = plan.scale.persistent
    ? new URL(`data/bench/pglite-${spec.campaigns}x${spec.days}`, ROOT).pathname
    : await Deno.makeTempDir({ prefix: "bench-smoke-" });
  const path = `${dir}/pglite`;
  // Recorded repository-relative, so the committed figures name no machine's checkout.
  const where = `PGlite ${
    path.startsWith(ROOT.pathname) ? path.slice(ROOT.pathname.length) : path
  }`;
  let db = await openPglite(path);
  if (plan.scale.persistent) {
    if (await isLoaded(db, spec)) {
      return { db, where, dir, reused: true, load_s: 0, steps_s: {} };
    }
    await db.close();
    await Deno.remove(path, { recursive: true }).catch(() => {});
    db = await openPglite(path);
  }
  log(`  loading ${scaleRows(spec).toLocaleString("en-US")} rows into PGlite at ${path}`);
  const load = await loadScale(db, spec, log).catch(async (error) => {
    await db.close().catch(() => {});
    if (!plan.scale.persistent) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  });
  return {
    db,
    where,
    dir,
    reused: false,
    load_s: load.load_s,
    steps_s: load.steps_s,
  };
}

/** The fast loader's rollups versus the store's upsert, on a small sample. */
async function rollupCheck(
  plan: Plan,
  loaded?: { db: BenchDb; spec: ScaleSpec },
): Promise<{ campaigns: number; days: number; tables_compared: string[]; differing: string[] }> {
  // A small data set is enough; a smoke run's own (small) scale data set is reused.
  const spec: ScaleSpec = loaded?.spec ??
    { tenant: "bench", campaigns: 6, days: 75, start: "2025-01-01" };
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let source: BenchDb;
    let target: BenchDb;
    if (plan.databaseUrl) {
      const url = plan.databaseUrl;
      const [a, b] = [scratchSchemaName("bench_check_a"), scratchSchemaName("bench_check_b")];
      if (loaded) {
        source = loaded.db;
      } else {
        source = await openPostgresSchema(url, a, { max: 2 });
        cleanups.push(() => source.close().then(() => dropPostgresSchema(url, a)));
      }
      target = await openPostgresSchema(url, b, { max: 2 });
      cleanups.push(() => target.close().then(() => dropPostgresSchema(url, b)));
    } else {
      if (loaded) {
        source = loaded.db;
      } else {
        source = await openPglite();
        cleanups.push(() => source.close());
      }
      target = await openPglite();
      cleanups.push(() => target.close());
    }
    if (!loaded) await loadScale(source, spec);
    const { compared, differing } = await compareWithUpsert(source, target);
    return { campaigns: spec.campaigns, days: spec.days, tables_compared: compared, differing };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

export async function runBench(
  plan: Plan,
  print: (line: string) => void = console.log,
): Promise<BenchResults> {
  const started = new Date();
  const t0 = performance.now();
  const log = (line: string) =>
    print(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const runId = crypto.randomUUID().slice(0, 8);
  const [loadStart] = Deno.loadavg();
  const results: BenchResults = {
    version: 1,
    mode: plan.mode,
    started_at: started.toISOString(),
    finished_at: "",
    wall_s: 0,
    machine: await machineInfo(plan, undefined),
    target: {
      database: plan.databaseUrl ? "postgres" : "pglite",
      cache: plan.redisUrl ? "redis" : "memory",
    },
    code: await codeInfo(),
    notes: [...plan.notes],
    http: null,
    ingest: null,
    queries: null,
    backfill_latency: null,
    import: null,
    targets: [],
  };
  log(
    `bench (${plan.mode}): ${results.target.database} + ${results.target.cache} cache; sections ${
      [...plan.sections].join(", ")
    }`,
  );

  let scale: Awaited<ReturnType<typeof openScale>> | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (plan.sections.has("queries") || plan.sections.has("http")) {
      log("scale data set");
      scale = await openScale(plan, log);
      const opened = scale;
      if (!plan.scale.persistent) {
        cleanups.push(async () => {
          if (plan.databaseUrl && opened.db.schema) {
            await dropPostgresSchema(plan.databaseUrl, opened.db.schema);
          }
          if (opened.dir) await Deno.remove(opened.dir, { recursive: true }).catch(() => {});
        });
      }
      results.machine = await machineInfo(plan, scale.db);
      let queryResults: Awaited<ReturnType<typeof runQueries>> = [];
      const candidates: CandidateResult[] = [];
      if (plan.sections.has("queries")) {
        log(`queries (${plan.queryRuns} runs each)`);
        queryResults = await runQueries(scale.db.driver, plan.scale, {
          runs: plan.queryRuns,
          extraRuns: plan.extraRuns,
          log,
        });
        const candidate = await runSingleMonthCandidate(
          scale.db.driver,
          plan.scale,
          plan.queryRuns,
        );
        log(
          `  candidate single-month rank: p50 ${candidate.p50_ms} ms, p95 ${candidate.p95_ms} ms, ` +
            `same answer: ${candidate.same_answer}`,
        );
        candidates.push(candidate);
      }
      let rollup: Awaited<ReturnType<typeof rollupCheck>> | undefined;
      if (plan.sections.has("queries")) {
        log("rollup check (fast loader vs store upsert)");
        rollup = await rollupCheck(
          plan,
          plan.scale.persistent ? undefined : { db: scale.db, spec: plan.scale },
        );
      }
      await scale.db.close(); // PGlite: one process at a time, and the servers come next
      if (plan.sections.has("queries")) {
        results.queries = {
          scale: {
            tenant: plan.scale.tenant,
            campaigns: plan.scale.campaigns,
            platforms: PLATFORMS.length,
            days: plan.scale.days,
            rows: scaleRows(plan.scale),
            reused: scale.reused,
            load_s: scale.load_s,
            steps_s: scale.steps_s,
            where: scale.where,
          },
          rollup_check: rollup!,
          runs: plan.queryRuns,
          results: queryResults,
          candidate_fixes: candidates,
        };
      }
    }
    if (plan.sections.has("http") && scale) {
      log(`http (c=${plan.http.connections}, ${plan.http.durationS} s per route)`);
      const appEnv: Record<string, string> = {
        LOG_LEVEL: plan.serverLogLevel,
        DEFAULT_TIME_ZONE: "UTC",
        ...(plan.databaseUrl
          ? { DATABASE_URL: urlWithSearchPath(plan.databaseUrl, scale.db.schema!) }
          : { DATA_DIR: scale.dir! }),
        ...(plan.redisUrl ? { REDIS_URL: plan.redisUrl, CACHE_KEY_PREFIX: `bench:${runId}:` } : {}),
      };
      results.http = await runHttp(appEnv, plan.http, log);
    }
    if (plan.sections.has("ingest")) {
      log(
        `ingest (${
          plan.ingest.rows.toLocaleString("en-US")
        } rows, batches of ${plan.ingest.batch})`,
      );
      const open = async (prefix: string): Promise<BenchDb> => {
        if (!plan.databaseUrl) return await openPglite();
        const url = plan.databaseUrl;
        const schema = scratchSchemaName(prefix);
        cleanups.push(() => dropPostgresSchema(url, schema));
        return await openPostgresSchema(url, schema, { max: 2 });
      };
      const db = await open("bench_ingest");
      const candidate = await open("bench_ingest_fix");
      try {
        results.ingest = await runIngest(db, { ...plan.ingest, log, candidate });
        const scaledNote = plan.notes.find((n) => n.includes("ingestion scaled down"));
        if (scaledNote) results.ingest.scaled_note = "scaled down for PGlite";
      } finally {
        await db.close();
        await candidate.close();
      }
    }
    if (plan.sections.has("backfill")) {
      // Always the embedded server: the stall it measures is PGlite's, in process.
      const days = plan.mode === "smoke" ? 7 : 90;
      log(`backfill latency (main.ts serve on an empty DATA_DIR, ${days}-day backfill)`);
      results.backfill_latency = await runBackfillLatency({
        days,
        idleS: plan.mode === "smoke" ? 1 : 5,
        log,
      });
    }
    if (plan.sections.has("import") && plan.databaseUrl) {
      // `deno task import` of a CSV file beside COPY of the same file (PostgreSQL only).
      const rows = plan.mode === "smoke" ? 2_000 : 300_000;
      log(`import (${rows.toLocaleString("en-US")} CSV rows through main.ts import vs COPY)`);
      results.import = await runImportBench(plan.databaseUrl, { rows, log });
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((e) => log(`cleanup failed: ${e}`));
    }
  }
  const [loadEnd] = Deno.loadavg();
  results.notes.push(
    `1-minute load average ${loadStart.toFixed(2)} at the start and ${loadEnd.toFixed(2)} at the ` +
      `end of the run (the machine is shared: other processes count too)`,
  );
  results.targets = verdicts(results);
  results.finished_at = new Date().toISOString();
  results.wall_s = round((performance.now() - t0) / 1000, 1);
  return results;
}

const RESULTS_HEADER = `# Benchmark results

Written by \`deno task bench\` (bench/run.ts): every run writes its figures to
\`bench/results/\` and its summary below. Figures are only meaningful beside the baseline
measured in the same run on the same machine: the load generator shares the machine with
the server and the database.
`;

if (import.meta.main) {
  const plan = makePlan(Deno.args);
  const results = await runBench(plan);
  await Deno.mkdir(new URL(".", `file://${plan.out}`).pathname, { recursive: true });
  await Deno.writeTextFile(plan.out, JSON.stringify(results, null, 2) + "\n");
  console.log("\n" + textReport(results));
  console.log(`\nfigures: ${plan.out}`);
  if (plan.resultsMd) {
    const mdDir = new URL(".", `file://${plan.resultsMd}`).pathname;
    const relative = plan.out.startsWith(mdDir) ? plan.out.slice(mdDir.length) : plan.out;
    let existing = RESULTS_HEADER;
    try {
      existing = await Deno.readTextFile(plan.resultsMd);
    } catch { /* first run */ }
    await Deno.writeTextFile(
      plan.resultsMd,
      updateResultsMarkdown(existing, results, relative),
    );
    console.log(`summary written to ${plan.resultsMd}`);
  }
}
