/**
 * MCP: `tools/call campaign_insights` on POST /mcp beside `GET /campaign/:id/insights` for
 * the same campaign and range, on one bench server process (bench/server.ts, the app as
 * `serve` composes it, memory cache) over a seeded embedded store. Both answers are
 * cached after the warm-up, so the difference is what MCP adds: a JSON-RPC envelope, a
 * server and transport per request (stateless mode), argument validation and the
 * in-process request to the REST route.
 *
 *   deno run -A bench/mcp.ts [--smoke] [--connections 10] [--duration 10] [--out file.json]
 *
 * Importable as `runMcpBench(plan, log)` for bench/run.ts.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { silentLogger } from "../lib/log.ts";
import type { MetricRowInput } from "../lib/schema.ts";
import { openDatabase } from "../runtime/database.ts";
import { buildServices } from "../runtime/services.ts";
import { loadServeSettings } from "../runtime/settings.ts";
import { API_KEY, runLoadgen, startServer, TENANT } from "./http.ts";
import type { LoadResult } from "./loadgen.ts";
import { dailyBenchRows } from "./fixtures.ts";
import { round } from "./stats.ts";

export interface McpBenchPlan {
  campaigns: number;
  days: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

export const MCP_BENCH_FULL: McpBenchPlan = {
  campaigns: 50,
  days: 365,
  connections: 10,
  durationS: 10,
  warmupS: 2,
};
export const MCP_BENCH_SMOKE: McpBenchPlan = {
  campaigns: 5,
  days: 30,
  connections: 2,
  durationS: 1,
  warmupS: 0.5,
};

type Figures = Pick<
  LoadResult,
  "requests" | "rps" | "non_2xx" | "errors" | "p50_ms" | "p95_ms" | "p99_ms" | "max_ms"
>;

/** CPU per answer, in process and one at a time: robust on a machine shared with others. */
export interface CpuPerCall {
  calls: number;
  rest_cpu_ms: number;
  mcp_cpu_ms: number;
}

export interface McpBenchResult {
  plan: McpBenchPlan;
  rows: number;
  rest: Figures & { route: string };
  mcp: Figures & { route: string; tool: string };
  /** MCP p95 / REST p95. */
  p95_ratio: number;
  p95_overhead_ms: number;
  cpu_per_call: CpuPerCall;
}

const CPU_CALLS = 2_000;

/** CPU milliseconds per call of `call`, after as many calls again to warm up. */
async function cpuPerCall(call: () => Promise<Response>, calls: number): Promise<number> {
  for (let i = 0; i < calls; i++) await (await call()).text();
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await (await call()).text();
  const used = process.cpuUsage(before);
  return round((used.user + used.system) / 1000 / calls, 4);
}

const FROM = "2024-01-01";

function seedRows(plan: McpBenchPlan): MetricRowInput[] {
  const start = Date.parse(`${FROM}T00:00:00Z`);
  return dailyBenchRows({ tenant: TENANT, campaigns: plan.campaigns, days: plan.days, start });
}

function figures(result: LoadResult): Figures {
  const { requests, rps, non_2xx, errors, p50_ms, p95_ms, p99_ms, max_ms } = result;
  return { requests, rps, non_2xx, errors, p50_ms, p95_ms, p99_ms, max_ms };
}

export async function runMcpBench(
  plan: McpBenchPlan,
  log: (line: string) => void = () => {},
): Promise<McpBenchResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-mcp-" });
  try {
    const rows = seedRows(plan);
    const db = await openDatabase({ dataDir: dir, poolSize: 1 }, silentLogger);
    for (let i = 0; i < rows.length; i += 5_000) await db.store.upsert(rows.slice(i, i + 5_000));
    await db.close();
    log(`  seeded ${rows.length} rows (${plan.campaigns} campaigns x ${plan.days} days)`);

    const appEnv = {
      DATA_DIR: dir,
      API_KEY: `${TENANT}:${API_KEY}`,
      DATA_SOURCE: "fake",
      LOG_LEVEL: "warn",
      DEFAULT_TIME_ZONE: "UTC",
    };
    const to = new Date(Date.parse(`${FROM}T00:00:00Z`) + (plan.days - 1) * 86_400_000)
      .toISOString().slice(0, 10);
    const args = { campaign_id: "cmp-1", from: FROM, to, granularity: "week" };
    const restPath = `/campaign/cmp-1/insights?from=${FROM}&to=${to}&granularity=week`;
    const auth = { Authorization: `Bearer ${API_KEY}` };
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "campaign_insights", arguments: args },
    });
    const mcpHeaders = {
      ...auth,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
    };
    let loaded: Omit<McpBenchResult, "cpu_per_call">;
    const server = await startServer("mcp", appEnv);
    try {
      // The two answers agree before anything is timed (and both are now cached).
      const rest = await (await fetch(server.url + restPath, { headers: auth })).json();
      const call = await (await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: mcpHeaders,
        body,
      })).json();
      if (JSON.stringify(call.result?.structuredContent) !== JSON.stringify(rest)) {
        throw new Error(`MCP and REST disagree: ${JSON.stringify(call).slice(0, 500)}`);
      }

      const load = {
        connections: plan.connections,
        duration: plan.durationS,
        warmup: plan.warmupS,
      };
      log(`  REST ${restPath} (c=${plan.connections}, ${plan.durationS} s)`);
      const restLoad = await runLoadgen({ url: server.url + restPath, headers: auth, ...load });
      log(`  MCP tools/call campaign_insights (c=${plan.connections}, ${plan.durationS} s)`);
      const mcpLoad = await runLoadgen({
        url: `${server.url}/mcp`,
        method: "POST",
        headers: mcpHeaders,
        body,
        ...load,
      });
      loaded = {
        plan,
        rows: rows.length,
        rest: { route: "GET /campaign/:id/insights", ...figures(restLoad) },
        mcp: { route: "POST /mcp", tool: "campaign_insights", ...figures(mcpLoad) },
        p95_ratio: round(mcpLoad.p95_ms / restLoad.p95_ms, 2),
        p95_overhead_ms: round(mcpLoad.p95_ms - restLoad.p95_ms, 3),
      };
    } finally {
      await server.stop();
    }

    // The same app in this process (the server above has released the directory).
    const calls = Math.max(100, Math.round(CPU_CALLS * plan.durationS / MCP_BENCH_FULL.durationS));
    log(`  CPU per call in process (${calls} calls each)`);
    const services = await buildServices(loadServeSettings(appEnv), { logger: silentLogger });
    try {
      const { app } = services;
      const rest_cpu_ms = await cpuPerCall(
        async () => await app.request(restPath, { headers: auth }),
        calls,
      );
      const mcp_cpu_ms = await cpuPerCall(
        async () => await app.request("/mcp", { method: "POST", headers: mcpHeaders, body }),
        calls,
      );
      return { ...loaded, cpu_per_call: { calls, rest_cpu_ms, mcp_cpu_ms } };
    } finally {
      await services.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      smoke: { type: "boolean" },
      connections: { type: "string" },
      duration: { type: "string" },
      out: { type: "string" },
    },
  });
  const base = values.smoke ? MCP_BENCH_SMOKE : MCP_BENCH_FULL;
  const plan: McpBenchPlan = {
    ...base,
    connections: values.connections ? Number(values.connections) : base.connections,
    durationS: values.duration ? Number(values.duration) : base.durationS,
  };
  const result = await runMcpBench(plan, (line) => console.error(line));
  const table = [
    "| route | rps | p50 ms | p95 ms | p99 ms | non-2xx |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...[result.rest, result.mcp].map((r) =>
      `| ${r.route}${
        "tool" in r ? ` (${r.tool})` : ""
      } | ${r.rps} | ${r.p50_ms} | ${r.p95_ms} | ${r.p99_ms} | ${r.non_2xx} |`
    ),
  ];
  console.error(table.join("\n"));
  console.error(`MCP p95 = ${result.p95_ratio}x REST p95 (+${result.p95_overhead_ms} ms)`);
  const cpu = result.cpu_per_call;
  console.error(
    `CPU per cached answer in process: REST ${cpu.rest_cpu_ms} ms, MCP ${cpu.mcp_cpu_ms} ms`,
  );
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result));
}
