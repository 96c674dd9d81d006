/** The benchmark's output: the stdout table, the target verdicts and the RESULTS.md summary. */
import type { HttpResult, ScenarioResult } from "./http.ts";
import type { IngestResult } from "./ingest.ts";
import type { BackfillLatencyResult } from "./backfill_latency.ts";
import type { ImportBenchResult } from "./import.ts";
import type { CandidateResult, QueryResult } from "./queries.ts";

export interface Machine {
  cores: number;
  memory_gib: number;
  cpu: string;
  os: string;
  deno: string;
  v8: string;
  typescript: string;
  database: string;
  database_settings?: Record<string, string>;
  cache: string;
}

export interface TargetVerdict {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
  /** How far from the target, in words ("1.8× over", "needs +67%"), or why not judged. */
  margin: string;
}

export interface BenchResults {
  version: 1;
  mode: "full" | "smoke";
  started_at: string;
  finished_at: string;
  wall_s: number;
  machine: Machine;
  target: { database: "postgres" | "pglite"; cache: "redis" | "memory" };
  /** The code measured: the commit, and files changed in the working tree (outside bench/). */
  code: { commit: string | null; changed_files: string[] };
  notes: string[];
  http: HttpResult | null;
  ingest: (IngestResult & { scaled_note?: string }) | null;
  /** `main.ts serve` embedded: latency while its backfill writes, and idle. */
  backfill_latency?: BackfillLatencyResult | null;
  /** `main.ts import` of a CSV file vs COPY of the same file (PostgreSQL). */
  import?: ImportBenchResult | null;
  queries: {
    scale: {
      tenant: string;
      campaigns: number;
      platforms: number;
      days: number;
      rows: number;
      reused: boolean;
      load_s: number;
      steps_s: Record<string, number>;
      where: string;
    };
    rollup_check: {
      campaigns: number;
      days: number;
      tables_compared: string[];
      differing: string[];
    };
    runs: number;
    results: QueryResult[];
    candidate_fixes: CandidateFix[];
  } | null;
  targets: TargetVerdict[];
}

export type CandidateFix = CandidateResult;

const number = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value) ? "–" : value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

function pad(cells: string[], widths: number[], align: ("l" | "r")[]): string {
  return cells.map((cell, i) =>
    align[i] === "l" ? cell.padEnd(widths[i]) : cell.padStart(widths[i])
  )
    .join("  ").trimEnd();
}

function table(header: string[], rows: string[][], align: ("l" | "r")[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [
    pad(header, widths, align),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((r) => pad(r, widths, align)),
  ]
    .join("\n");
}

function markdownTable(header: string[], rows: string[][], align: ("l" | "r")[]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(align.map((a) => (a === "l" ? ":--" : "--:"))), ...rows.map(line)]
    .join("\n");
}

function httpRows(http: HttpResult): string[][] {
  return http.rows.map((row: ScenarioResult) =>
    row.available
      ? [
        row.label,
        row.server,
        String(row.connections),
        number(row.rps),
        number(row.p50_ms, 2),
        number(row.p95_ms, 2),
        number(row.p99_ms, 2),
        row.ratio_to_baseline === undefined ? "" : `${number(row.ratio_to_baseline * 100, 1)}%`,
        row.ratio_to_adjacent_baseline === undefined
          ? ""
          : `${number(row.ratio_to_adjacent_baseline * 100, 1)}%`,
        row.ratio_to_sized_baseline === undefined
          ? ""
          : `${number(row.ratio_to_sized_baseline * 100, 1)}%`,
        row.cache && (row.cache.hits + row.cache.misses + row.cache.bypasses) > 0
          ? `${row.cache.hits}/${row.cache.misses}/${row.cache.bypasses}`
          : "",
        number(row.loadavg_1m, 2),
      ]
      : [
        row.label,
        row.server,
        String(row.connections),
        "not available",
        ...Array.from({ length: 8 }, () => ""),
      ]
  );
}

const HTTP_HEADER = [
  "route",
  "server",
  "c",
  "req/s",
  "p50 ms",
  "p95 ms",
  "p99 ms",
  "of baseline",
  "of adjacent baseline",
  "of same-size baseline",
  "cache hit/miss/bypass (incl. warm-up)",
  "load avg",
];
const HTTP_ALIGN: ("l" | "r")[] = ["l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"];

function ingestRows(ingest: IngestResult): string[][] {
  return [
    ["COPY (baseline)", number(ingest.copy.seconds, 2), number(ingest.copy.rows_per_s), "100%"],
    [
      `store.upsert (${number(ingest.batch_rows)}/batch)`,
      number(ingest.upsert.seconds, 2),
      number(ingest.upsert.rows_per_s),
      `${number(ingest.ratio_to_copy * 100, 1)}%`,
    ],
    ...(ingest.candidate
      ? [[
        "store.upsert, candidate index (bench only)",
        number(ingest.candidate.seconds, 2),
        number(ingest.candidate.rows_per_s),
        `${number(ingest.candidate.ratio_to_copy * 100, 1)}%`,
      ]]
      : []),
  ];
}

function breakdownLine(label: string, b: IngestResult["upsert"]["breakdown"]): string {
  const first = b.batch_ms.slice(0, 3);
  const last = b.batch_ms.slice(-3);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(xs.length, 1);
  const copy = b.copy_s === undefined ? "" : `${number(b.copy_s, 1)} s the COPY into staging, `;
  return `${label}: ${number(b.statement_s, 1)} s awaiting the upsert statement, ${copy}` +
    `${number(b.lock_s, 1)} s the advisory locks, ${number(b.other_s, 1)} s the rest ` +
    `(validation, COPY text or column arrays, BEGIN/COMMIT); a batch took ~${
      number(mean(first))
    } ms at the start and ~${number(mean(last))} ms at the end`;
}

/** The EXPLAIN of one more batch, and the index what-ifs when they applied. */
function whatIfText(i: IngestResult): string {
  const base = `One more batch of ${number(i.batch_rows)} new rows through the store's upsert ` +
    `statement, EXPLAIN (ANALYZE, BUFFERS) in a rolled-back transaction: ` +
    `${executionTime(i.upsert_explain)} as is` +
    (i.upsert_explain_restated
      ? ` (${executionTime(i.upsert_explain_restated)} for ${
        number(i.batch_rows)
      } stored rows restated)`
      : "");
  const lookup = lookupLine(i.upsert_explain);
  if (i.upsert_explain_without_tenant_ts.startsWith("not applicable")) {
    return `${base}; the lookup of replaced rows: \`${lookup}\``;
  }
  return `${base}; ${executionTime(i.upsert_explain_without_tenant_ts)} with ` +
    `campaign_metrics_tenant_ts dropped (the lookup of replaced rows then uses the primary ` +
    `key); ${executionTime(i.upsert_explain_tenant_ts_with_campaign)} with it rebuilt on ` +
    `(tenant_id, ts, platform, campaign_id). The lookup as is: \`${lookup}\``;
}

/** "1463.3 ms" from an EXPLAIN ANALYZE text. */
function executionTime(plan: string): string {
  return /Execution Time: ([\d.]+ ms)/.exec(plan)?.[1] ?? "–";
}

/** The lookup of replaced rows, as the plan shows it (index used and time per probe). */
function lookupLine(plan: string): string {
  return plan.split("\n").find((line) => /Index (Only )?Scan .*loops=\d{3,}/.test(line))?.trim() ??
    "";
}

function queryRows(results: QueryResult[]): string[][] {
  return results.map((q) => [
    q.label,
    number(q.p50_ms, 2),
    number(q.p95_ms, 2),
    number(q.max_ms, 2),
    q.met === null
      ? "no target (extra)"
      : q.met
      ? "met"
      : `MISSED (${number(q.p95_ms / (q.target_p95_ms ?? 50), 2)}× the target)`,
  ]);
}

const QUERY_HEADER = ["query", "p50 ms", "p95 ms", "max ms", "p95 ≤ 50 ms"];
const QUERY_ALIGN: ("l" | "r")[] = ["l", "r", "r", "r", "l"];

export function verdicts(results: BenchResults): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  const atLeast = (name: string, target: number, measured: number | undefined, unit: string) => {
    if (measured === undefined) {
      out.push({
        name,
        target: `≥ ${target}${unit}`,
        measured: "–",
        met: null,
        margin: "not measured",
      });
      return;
    }
    const met = measured >= target;
    out.push({
      name,
      target: `≥ ${target}${unit}`,
      measured: `${number(measured, 1)}${unit}`,
      met,
      margin: met
        ? `${number((measured / target - 1) * 100, 0)}% above`
        : `missed by ${number(target - measured, 1)} points (needs ${
          number((target / measured - 1) * 100, 0)
        }% more)`,
    });
  };
  const atMost = (
    name: string,
    target: number,
    measured: number | undefined,
    unit: string,
    why?: string,
  ) => {
    if (measured === undefined) {
      out.push({
        name,
        target: `≤ ${target} ${unit}`,
        measured: "–",
        met: null,
        margin: why ?? "not measured",
      });
      return;
    }
    const met = measured <= target;
    out.push({
      name,
      target: `≤ ${target} ${unit}`,
      measured: `${number(measured, 2)} ${unit}`,
      met,
      margin: met
        ? `${number(target - measured, 2)} ${unit} to spare`
        : `missed: ${number(measured / target, 2)}× the target (+${
          number(measured - target, 2)
        } ${unit})`,
    });
  };
  const backfill = results.backfill_latency;
  if (backfill) {
    atMost("/healthz p99 during the embedded backfill", 100, backfill.during.healthz.p99_ms, "ms");
    atMost(
      "cached insights p99 during the embedded backfill",
      50,
      backfill.during.cached_insights.p99_ms,
      "ms",
    );
  }
  if (results.import) {
    atLeast("import (CSV file), share of COPY rows/s", 50, results.import.ratio_to_copy * 100, "%");
  }
  const row = (name: string, server: string) =>
    results.http?.rows.find((r) => r.name === name && r.server === server && r.available);
  if (results.http) {
    const cached = row("campaign_insights", "cached");
    atLeast(
      "cached insights, share of baseline req/s (c=50)",
      70,
      cached?.ratio_to_baseline !== undefined ? cached.ratio_to_baseline * 100 : undefined,
      "%",
    );
    if (cached?.ratio_to_sized_baseline !== undefined) {
      out[out.length - 1].margin += `; ${number(cached.ratio_to_sized_baseline * 100, 1)}% of ` +
        `the trivial route answering the same bytes`;
    }
    atMost("cached insights p99 (c=50)", 5, cached?.p99_ms, "ms");
    const sized = row("baseline_sized", "cached");
    if (sized && out.length) {
      out[out.length - 1].margin += `; the same-size trivial route: p99 ${
        number(sized.p99_ms, 2)
      } ms`;
    }
    const prompt = row("prompt", "cached");
    const promptSingle = row("prompt_c1", "cached");
    const missing = results.http.rows.find((r) => r.name === "prompt")?.note;
    atMost(
      "/prompt p95, single process (c=1)",
      20,
      promptSingle?.p95_ms,
      "ms",
      missing ?? "not measured",
    );
    atMost(
      "/prompt p95, single process (c=50)",
      20,
      prompt?.p95_ms,
      "ms",
      missing ?? "not measured",
    );
  }
  if (results.queries) {
    for (const q of results.queries.results.filter((r) => !r.extra)) {
      atMost(`query p95: ${q.label}`, 50, q.p95_ms, "ms");
    }
  }
  if (results.ingest) {
    atLeast("ingestion, share of COPY rows/s", 50, results.ingest.ratio_to_copy * 100, "%");
  }
  return out;
}

function verdictRows(targets: TargetVerdict[]): string[][] {
  return targets.map((
    t,
  ) => [t.name, t.target, t.measured, t.met === null ? "n/a" : t.met ? "met" : "MISSED", t.margin]);
}

const TARGET_HEADER = ["target", "goal", "measured", "verdict", "margin"];
const TARGET_ALIGN: ("l" | "r")[] = ["l", "l", "r", "l", "l"];

function scaleLine(results: BenchResults): string {
  const s = results.queries!.scale;
  return `${number(s.campaigns)} campaigns × ${s.platforms} platforms × ${s.days} days = ${
    number(s.rows)
  } rows ` +
    `(${s.where}; ${
      s.reused ? "reused from an earlier run" : `loaded in ${number(s.load_s, 1)} s`
    })`;
}

function percent(share: number): string {
  return `${number(share * 100, 1)}%`;
}

function profileLines(http: HttpResult): string[] {
  const p = http.profile;
  if (!p) return [];
  const top = p.summary.top_self.filter((f) => f.function !== "(idle)").slice(0, 8)
    .map((f) => `${f.function}${f.where ? ` (${f.where})` : ""} ${percent(f.self_share)}`);
  const sources = p.summary.by_source.slice(0, 8).map((s) =>
    `${s.source} ${percent(s.self_share)}`
  );
  return [
    `CPU profile of ${p.route}, ${p.seconds} s on a separate server under --inspect ` +
    `(${number(p.rps_while_profiled)} req/s while profiled), main thread busy ` +
    `${percent(p.summary.busy_share)} of samples:`,
    `  top self time: ${top.join(", ")}`,
    `  by source: ${sources.join(", ")}`,
  ];
}

/** The readable summary printed at the end of a run. */
export function textReport(results: BenchResults): string {
  const parts: string[] = [];
  const m = results.machine;
  parts.push(
    `Machine: ${m.cores} cores (${m.cpu}), ${
      number(m.memory_gib, 1)
    } GiB, ${m.os}; Deno ${m.deno}; ` +
      `database ${m.database}; cache ${m.cache}`,
  );
  if (results.http) {
    const h = results.http;
    parts.push(
      `\nHTTP: c=${h.connections}, ${h.duration_s} s per route after ${h.warmup_s} s warm-up, ${h.loadgen}`,
      table(HTTP_HEADER, httpRows(h), HTTP_ALIGN),
      ...Object.entries(h.servers).map(([label, s]) =>
        `server "${label}": peak RSS ${number(s.memory.peak_rss_mib, 1)} MiB (VmHWM), ` +
        `max sampled ${number(s.memory.max_sampled_rss_mib, 1)} MiB, idle ${
          number(s.memory.idle_rss_mib, 1)
        } MiB`
      ),
      ...profileLines(h),
    );
  }
  if (results.ingest) {
    const i = results.ingest;
    parts.push(
      `\nIngestion: ${number(i.rows)} rows${i.scaled_note ? ` (${i.scaled_note})` : ""}`,
      table(["method", "seconds", "rows/s", "of COPY"], ingestRows(i), ["l", "r", "r", "r"]),
      `(zod validation of all rows alone: ${number(i.validation_only_s, 2)} s)`,
      breakdownLine("upsert as is", i.upsert.breakdown),
      ...(i.candidate ? [breakdownLine("with the candidate index", i.candidate.breakdown)] : []),
      whatIfText(i),
    );
  }
  if (results.queries) {
    const q = results.queries;
    parts.push(
      `\nQueries at scale: ${scaleLine(results)}; ${q.runs} runs each, no cache`,
      table(QUERY_HEADER, queryRows(q.results), QUERY_ALIGN),
      `the fast loader's tables equal the store's upsert on a ${q.rollup_check.campaigns}×${q.rollup_check.days}-day sample ` +
        `(${q.rollup_check.tables_compared.join(", ")}): ` +
        (q.rollup_check.differing.length
          ? `NO (${q.rollup_check.differing.join(", ")} differ)`
          : "yes"),
    );
    for (const fix of q.candidate_fixes) {
      parts.push(
        `candidate fix for ${fix.query} (bench schema only): ${fix.change} → p50 ${fix.p50_ms} ms, ` +
          `p95 ${fix.p95_ms} ms over ${fix.runs} runs; same answer as the store: ${
            fix.same_answer ? "yes" : "NO"
          }`,
      );
    }
  }
  parts.push("\nTargets", table(TARGET_HEADER, verdictRows(results.targets), TARGET_ALIGN));
  for (const note of results.notes) parts.push(`note: ${note}`);
  parts.push(`\nWall time: ${number(results.wall_s, 1)} s`);
  return parts.join("\n");
}

/** The start and end markers of one target's latest-run block in bench/RESULTS.md. */
function summaryMarkers(results: BenchResults): [string, string] {
  const key = `${results.target.database}+${results.target.cache}`;
  return [`<!-- latest-run ${key} -->`, `<!-- /latest-run ${key} -->`];
}

/**
 * The latest run's summary for bench/RESULTS.md: when and on what it ran, where its
 * figures are (`jsonPath`, relative to bench/), and the target verdicts.
 */
export function markdownSummary(results: BenchResults, jsonPath: string): string {
  const m = results.machine;
  const when = results.started_at.replace("T", " ").slice(0, 16) + " UTC";
  const [start, end] = summaryMarkers(results);
  return [
    start,
    `### ${
      results.target.database === "postgres" ? "PostgreSQL" : "PGlite (embedded)"
    } + ${results.target.cache}: ${when}${results.mode === "smoke" ? " (smoke)" : ""}`,
    "",
    `${m.cores} cores (${m.cpu}), ${number(m.memory_gib, 1)} GiB RAM; Deno ${m.deno}; ` +
    `${m.database}; ${m.cache}. Code ${results.code?.commit?.slice(0, 12) ?? "unknown"}` +
    (results.code?.changed_files.length ? " plus uncommitted changes" : "") +
    `; wall time ${number(results.wall_s, 1)} s. Every figure: [${jsonPath}](${jsonPath}).`,
    "",
    markdownTable(TARGET_HEADER, verdictRows(results.targets), TARGET_ALIGN),
    end,
  ].join("\n");
}

/**
 * bench/RESULTS.md with this run's summary in place of the previous one for the same
 * database and cache (appended under "## Latest runs" when there is none yet).
 */
export function updateResultsMarkdown(
  existing: string,
  results: BenchResults,
  jsonPath: string,
): string {
  const block = markdownSummary(results, jsonPath);
  const [start, end] = summaryMarkers(results);
  const from = existing.indexOf(start);
  const to = existing.indexOf(end, from);
  if (from >= 0 && to > from) {
    return existing.slice(0, from) + block + existing.slice(to + end.length);
  }
  const base = existing.trimEnd();
  const heading = base.includes("\n## Latest runs\n") ? "" : "\n\n## Latest runs";
  return `${base}${heading}\n\n${block}\n`;
}
