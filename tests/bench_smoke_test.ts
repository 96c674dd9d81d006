/**
 * The benchmark's smoke version, run as the task runs it (`bench/run.ts --smoke`, its
 * own process, which starts the bench servers and load generators as processes of
 * their own), so the benchmark cannot rot. Tiny sizes and ~1 s per HTTP route; against
 * PGlite, or against TEST_DATABASE_URL / TEST_REDIS_URL when set (scratch schemas,
 * dropped afterwards). The assertions check that every section produced real figures,
 * not just that nothing threw.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const RUN = new URL("bench/run.ts", ROOT).pathname;
const KNOBS = [
  "BENCH_DURATION_S",
  "BENCH_WARMUP_S",
  "BENCH_CONNECTIONS",
  "BENCH_SINGLE_DURATION_S",
  "BENCH_ADJACENT_BASELINE_S",
  "BENCH_PROFILE_S",
  "BENCH_INGEST_ROWS",
  "BENCH_INGEST_BATCH",
  "BENCH_SCALE_CAMPAIGNS",
  "BENCH_SCALE_DAYS",
  "BENCH_QUERY_RUNS",
  "BENCH_EXTRA_RUNS",
  "BENCH_SERVER_LOG_LEVEL",
  "BENCH_OUT",
];

interface Row {
  name: string;
  server: string;
  available: boolean;
  note?: string;
  rps?: number;
  p50_ms?: number;
  p95_ms?: number;
  p99_ms?: number;
  requests?: number;
  non_2xx?: number;
  ratio_to_baseline?: number;
  cache?: { hits: number; misses: number; bypasses: number };
}

Deno.test({
  name: "bench smoke: every section measures something and the JSON has the expected shape",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-smoke-test-" });
    const out = `${dir}/results.json`;
    const databaseUrl = Deno.env.get("TEST_DATABASE_URL");
    const redisUrl = Deno.env.get("TEST_REDIS_URL");
    try {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", RUN, "--smoke", "--out", out],
        cwd: ROOT.pathname,
        env: {
          // The smoke sizes, whatever BENCH_* knobs the calling shell has set.
          ...Object.fromEntries(KNOBS.map((name) => [name, ""])),
          BENCH_SECTIONS: "queries,http,ingest",
          BENCH_RESULTS_MD: "",
          BENCH_DATABASE_URL: databaseUrl ?? "",
          BENCH_REDIS_URL: redisUrl ?? "",
        },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(170_000),
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, `bench --smoke failed:\n${stdout}\n${stderr}`);
      assert.match(stdout, /Targets/);
      assert.match(stdout, /Queries at scale/);

      try {
        checkResults(JSON.parse(await Deno.readTextFile(out)), databaseUrl, redisUrl);
      } catch (error) {
        // The run's own log says which numbers were produced: keep it with the failure.
        const tail = stdout.split("\n").slice(-80).join("\n");
        throw new Error(`${(error as Error).message}\n--- bench output ---\n${tail}`, {
          cause: error,
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// deno-lint-ignore no-explicit-any
function checkResults(results: any, databaseUrl?: string, redisUrl?: string) {
  for (
    const key of [
      "version",
      "mode",
      "started_at",
      "finished_at",
      "wall_s",
      "machine",
      "target",
      "code",
      "notes",
      "http",
      "ingest",
      "queries",
      "targets",
    ]
  ) {
    assert.ok(key in results, `results lack "${key}"`);
  }
  assert.equal(results.mode, "smoke");
  assert.ok(results.wall_s > 0);
  assert.ok(results.machine.cores > 0 && results.machine.memory_gib > 0);
  assert.equal(results.target.database, databaseUrl ? "postgres" : "pglite");
  assert.equal(results.target.cache, redisUrl ? "redis" : "memory");

  // HTTP: every route measured on both servers, with real throughput and latency.
  const rows: Row[] = results.http.rows;
  for (const server of ["cached", "uncached"]) {
    for (const name of ["baseline", "campaign_insights", "insights_platform"]) {
      const row = rows.find((r) => r.server === server && r.name === name);
      assert.ok(row?.available, `${server}/${name} missing`);
      assert.ok(row.rps! > 0 && row.requests! > 0, `${server}/${name}: no requests`);
      assert.ok(row.p50_ms! > 0 && row.p99_ms! >= row.p50_ms!, `${server}/${name} latency`);
      assert.equal(row.non_2xx, 0, `${server}/${name} answered non-2xx`);
      if (name !== "baseline") assert.ok(row.ratio_to_baseline! > 0);
    }
    // /prompt: measured when the bot is mounted, otherwise reported as not available.
    const prompt = rows.find((r) => r.server === server && r.name === "prompt");
    assert.ok(prompt, "no /prompt row");
    if (prompt.available) assert.ok(prompt.rps! > 0 && prompt.p95_ms! > 0);
    else assert.match(prompt.note ?? "", /not available/);
  }
  const cached = rows.find((r) => r.server === "cached" && r.name === "campaign_insights")!;
  assert.ok(cached.cache!.hits > 0, "the cached server served no cache hits");
  const uncached = rows.find((r) => r.server === "uncached" && r.name === "campaign_insights")!;
  assert.equal(uncached.cache!.hits, 0, "the cache-disabled server served cache hits");
  assert.ok(uncached.cache!.bypasses > 0);
  for (const server of ["cached", "uncached"]) {
    assert.ok(results.http.servers[server].memory.peak_rss_mib > 0, `${server}: no peak RSS`);
  }
  assert.ok(results.http.profile.summary.sampled_ms > 0, "no CPU profile samples");
  assert.ok(results.http.profile.summary.top_self.length > 0);

  // Ingestion: both paths wrote every row, and both rates are real.
  const ingest = results.ingest;
  assert.ok(ingest.rows > 0);
  assert.ok(ingest.copy.rows_per_s > 0 && ingest.upsert.rows_per_s > 0);
  assert.ok(ingest.ratio_to_copy > 0);
  assert.deepEqual(ingest.verified_counts, { copy: ingest.rows, upsert: ingest.rows });
  assert.match(ingest.upsert_explain, /Execution Time/, "no EXPLAIN ANALYZE of the upsert");
  // The index what-if runs only while the schema still has the index it is about.
  if (ingest.candidate) assert.ok(ingest.candidate.rows_per_s > 0);

  // Queries: the five target queries, timed and explained; the loader is faithful.
  const queries = results.queries;
  assert.equal(queries.scale.rows, queries.scale.campaigns * 4 * queries.scale.days);
  const targeted = queries.results.filter((q: { extra: boolean }) => !q.extra);
  assert.deepEqual(
    targeted.map((q: { name: string }) => q.name),
    [
      "campaign_30d",
      "campaign_lifetime",
      "platform_quarter",
      "top10_roas_month",
      "platform_series_90d",
    ],
  );
  for (const q of queries.results) {
    assert.ok(q.p50_ms > 0 && q.p95_ms >= q.p50_ms, `${q.name} timings`);
    assert.ok(q.result_rows > 0, `${q.name} returned no rows`);
    assert.match(q.explain, /Execution Time/, `${q.name} has no EXPLAIN ANALYZE`);
  }
  assert.deepEqual(queries.rollup_check.differing, []);
  assert.equal(queries.candidate_fixes[0].same_answer, true);

  // Targets: one verdict per target of the issue.
  const names: string[] = results.targets.map((t: { name: string }) => t.name);
  assert.ok(names.some((n) => n.startsWith("cached insights, share")));
  assert.ok(names.some((n) => n.startsWith("ingestion")));
  assert.equal(names.filter((n) => n.startsWith("query p95")).length, 5);
}
