/**
 * HTTP: the bench server (bench/server.ts, the real app plus a trivial baseline route)
 * and the load generator (bench/loadgen.ts, autocannon) each run as their own process,
 * so neither shares an event loop with the other or with this orchestrator. Two
 * server processes run one after the other over the same data: one with the cache
 * (Redis or memory, as configured), one with CACHE_DISABLED=true. Each route is warmed
 * up, then loaded at c connections for a fixed duration; every figure is reported
 * beside the baseline route of the same server process. The server's memory is
 * sampled from /proc (VmRSS every 100 ms, VmHWM at the end).
 */
import { round } from "./stats.ts";
import type { LoadResult, LoadSpec } from "./loadgen.ts";
import { captureProfile, type ProfileSummary, summarizeProfile } from "./profile.ts";

const SERVER = new URL("./server.ts", import.meta.url).pathname;
const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;

export const API_KEY = "bench-api-key-0001";
/** The operator credential the bench reads the server's Prometheus counters with. */
const METRICS_TOKEN = "bench-metrics-token-0001";
export const TENANT = "bench";

/** Variables a child process needs from ours to find Deno's cache; nothing else leaks in. */
const PASS_THROUGH = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "NO_COLOR", "LANG"];

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASS_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export interface ServerMemory {
  /** VmHWM: the peak resident set of the process over its whole life, in MiB. */
  peak_rss_mib: number;
  /** The highest VmRSS sampled while loaded, in MiB. */
  max_sampled_rss_mib: number;
  /** VmRSS right after start-up, before any load, in MiB. */
  idle_rss_mib: number;
}

function readStatusKb(pid: number, field: string): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

export interface BenchServer {
  label: string;
  url: string;
  pid: number;
  info: Record<string, unknown>;
  /** The DevTools websocket when started with `inspect`. */
  inspector?: string;
  stderrTail(): string[];
  memory(): ServerMemory;
  stop(): Promise<ServerMemory>;
}

export async function startServer(
  label: string,
  appEnv: Record<string, string>,
  options: {
    startTimeoutMs?: number;
    inspect?: boolean;
    preload?: string;
    /** Another checkout's bench/server.ts (A/B runs of two versions of the code). */
    server?: string;
  } = {},
): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(options.inspect ? ["--inspect=127.0.0.1:0"] : []),
      ...(options.preload ? ["--preload", options.preload] : []),
      options.server ?? SERVER,
    ],
    env: { ...baseEnv(), PORT: "0", METRICS_TOKEN, ...appEnv },
    clearEnv: true,
    stdin: "null",
    // Request logs go to stdout at LOG_LEVEL=info: discarded, not piped through us.
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  let inspector: string | undefined;
  let listening: ((info: Record<string, unknown>) => void) | undefined;
  const ready = new Promise<Record<string, unknown>>((resolve) => listening = resolve);
  const drained = (async () => {
    const decoder = new TextDecoderStream();
    let buffer = "";
    for await (const text of child.stderr.pipeThrough(decoder)) {
      buffer += text;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        tail.push(line);
        if (tail.length > 40) tail.shift();
        inspector ??= /(ws:\/\/\S+)/.exec(line)?.[1];
        if (line.includes('"bench server listening"')) {
          try {
            listening?.(JSON.parse(line));
          } catch { /* not our line after all */ }
        }
      }
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then((info) => ({ info })),
    child.status.then((status) => ({ exited: status.code })),
    new Promise<{ timeout: true }>((resolve) =>
      timer = setTimeout(() => resolve({ timeout: true }), options.startTimeoutMs ?? 90_000)
    ),
  ]);
  clearTimeout(timer);
  if (!("info" in outcome)) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await drained.catch(() => {});
    throw new Error(
      `bench server "${label}" did not start (${JSON.stringify(outcome)}):\n${tail.join("\n")}`,
    );
  }
  const info = outcome.info;
  const url = `http://127.0.0.1:${info.port}`;
  const idle = readStatusKb(child.pid, "VmRSS");
  let maxSampled = idle;
  const sampler = setInterval(() => {
    const rss = readStatusKb(child.pid, "VmRSS");
    if (rss > maxSampled) maxSampled = rss;
  }, 100);
  const memory = (): ServerMemory => ({
    peak_rss_mib: round(readStatusKb(child.pid, "VmHWM") / 1024, 1),
    max_sampled_rss_mib: round(maxSampled / 1024, 1),
    idle_rss_mib: round(idle / 1024, 1),
  });
  return {
    label,
    url,
    pid: child.pid,
    info,
    inspector,
    stderrTail: () => [...tail],
    memory,
    async stop() {
      clearInterval(sampler);
      const final = memory();
      child.kill("SIGTERM");
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        child.status,
        new Promise((resolve) =>
          killTimer = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
            resolve(undefined);
          }, 10_000)
        ),
      ]);
      clearTimeout(killTimer);
      await child.status;
      await drained.catch(() => {});
      return final;
    },
  };
}

/** Runs the load generator in its own process and returns its JSON report. */
export async function runLoadgen(spec: LoadSpec): Promise<LoadResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LOADGEN, JSON.stringify(spec)],
    env: baseEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success || !text) {
    throw new Error(
      `load generator failed (${output.code}): ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!) as LoadResult;
}

export interface Scenario {
  name: string;
  label: string;
  path: string;
  method?: "GET" | "POST";
  body?: string;
  auth: boolean;
  /** A 404 means "not built yet": reported as not available instead of failing the run. */
  optional?: boolean;
  connections: number;
}

export interface ScenarioResult {
  name: string;
  label: string;
  server: string;
  path: string;
  method: string;
  connections: number;
  available: boolean;
  /** Why not available (the probe's status and body). */
  note?: string;
  rps?: number;
  p50_ms?: number;
  p95_ms?: number;
  p99_ms?: number;
  max_ms?: number;
  requests?: number;
  non_2xx?: number;
  errors?: number;
  /** rps ÷ the same server's baseline rps (c=50 rows only). */
  ratio_to_baseline?: number;
  /** A short baseline run right after this one, against drift in a shared machine's load. */
  adjacent_baseline_rps?: number;
  ratio_to_adjacent_baseline?: number;
  /** rps ÷ the trivial route answering a response of this route's size (insights only). */
  ratio_to_sized_baseline?: number;
  /** The machine's 1-minute load average when the run started (other processes included). */
  loadavg_1m?: number;
  /** The probe response's size: body bytes, header count and header bytes. */
  response?: { body_bytes: number; headers: number; header_bytes: number };
  /** Cache counters of the server during this scenario (hits and misses seen by /metrics). */
  cache?: { hits: number; misses: number; bypasses: number };
}

function headersFor(scenario: Scenario): Record<string, string> {
  return {
    ...(scenario.auth ? { authorization: `Bearer ${API_KEY}` } : {}),
    ...(scenario.body ? { "content-type": "application/json" } : {}),
  };
}

async function cacheCounters(
  url: string,
): Promise<{ hits: number; misses: number; bypasses: number }> {
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await response.text();
  const counter = (name: string) => {
    const match = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  };
  return {
    hits: counter("cache_hits_total"),
    misses: counter("cache_misses_total"),
    bypasses: counter("cache_bypasses_total"),
  };
}

export async function runScenario(
  server: BenchServer,
  scenario: Scenario,
  options: { durationS: number; warmupS: number },
): Promise<ScenarioResult> {
  const url = `${server.url}${scenario.path}`;
  const base: ScenarioResult = {
    name: scenario.name,
    label: scenario.label,
    server: server.label,
    path: scenario.path,
    method: scenario.method ?? "GET",
    connections: scenario.connections,
    available: false,
  };
  const probe = await fetch(url, {
    method: scenario.method ?? "GET",
    headers: headersFor(scenario),
    body: scenario.body,
  });
  const probeBody = await probe.text();
  const headerList = [...probe.headers.entries()];
  const response = {
    body_bytes: new TextEncoder().encode(probeBody).length,
    headers: headerList.length,
    header_bytes: headerList.reduce(
      (sum, [name, value]) => sum + name.length + value.length + 4,
      0,
    ),
  };
  if (!probe.ok) {
    const note = `probe answered ${probe.status}: ${probeBody.slice(0, 160)}`;
    if (scenario.optional && probe.status === 404) {
      return { ...base, note: "not available: " + note };
    }
    throw new Error(`${scenario.name} on ${server.label}: ${note}`);
  }
  const spec: LoadSpec = {
    url,
    method: scenario.method ?? "GET",
    headers: headersFor(scenario),
    body: scenario.body,
    connections: scenario.connections,
    duration: options.durationS,
    warmup: options.warmupS,
  };
  const before = await cacheCounters(server.url);
  const loadavg = Deno.loadavg()[0];
  const result = await runLoadgen(spec);
  const after = await cacheCounters(server.url);
  return {
    ...base,
    available: true,
    loadavg_1m: loadavg,
    response,
    rps: result.rps,
    p50_ms: result.p50_ms,
    p95_ms: result.p95_ms,
    p99_ms: result.p99_ms,
    max_ms: result.max_ms,
    requests: result.requests,
    non_2xx: result.non_2xx,
    errors: result.errors + result.timeouts,
    cache: {
      // The two /metrics reads themselves are not cache reads; nothing to subtract.
      hits: after.hits - before.hits,
      misses: after.misses - before.misses,
      bypasses: after.bypasses - before.bypasses,
    },
  };
}

export interface HttpPlan {
  /** Seconds of CPU profile of the cached insights route (0: no profile). */
  profileS: number;
  connections: number;
  durationS: number;
  warmupS: number;
  /** Duration of the single-connection latency runs. */
  singleDurationS: number;
  /** Duration of the baseline run after each route (0: none). */
  adjacentBaselineS: number;
  campaignPath: string;
  platformPath: string;
  /** The dashboard's default: /insights over the last 30 days (optional in older plans). */
  last30Path?: string;
  prompt: string;
}

export interface HttpResult {
  connections: number;
  duration_s: number;
  warmup_s: number;
  loadgen: string;
  servers: Record<
    string,
    { env: Record<string, string>; info: Record<string, unknown>; memory: ServerMemory }
  >;
  rows: ScenarioResult[];
  /** Where the cached insights route spends its CPU (a separate, profiled server process). */
  profile: {
    route: string;
    seconds: number;
    rps_while_profiled: number;
    summary: ProfileSummary;
  } | null;
}

function scenarios(plan: HttpPlan, c: number): Scenario[] {
  return [
    {
      name: "baseline",
      label: "baseline GET /bench/baseline",
      path: "/bench/baseline",
      auth: false,
      connections: c,
    },
    {
      name: "campaign_insights",
      label: "GET /campaign/:id/insights",
      path: plan.campaignPath,
      auth: true,
      connections: c,
    },
    {
      name: "insights_platform",
      label: "GET /insights?group_by=platform",
      path: plan.platformPath,
      auth: true,
      connections: c,
    },
    ...(plan.last30Path
      ? [{
        name: "insights_last_30d",
        label: "GET /insights, the last 30 days (dashboard default)",
        path: plan.last30Path,
        auth: true,
        connections: c,
      }]
      : []),
    {
      name: "prompt",
      label: "POST /prompt",
      path: "/prompt",
      method: "POST",
      body: JSON.stringify({ prompt: plan.prompt }),
      auth: true,
      optional: true,
      connections: c,
    },
  ];
}

/**
 * Runs every scenario on a server with the cache and on one without. `appEnv` is the
 * database and cache configuration shared by both (DATABASE_URL or DATA_DIR, REDIS_URL).
 */
export async function runHttp(
  appEnv: Record<string, string>,
  plan: HttpPlan,
  log: (line: string) => void = () => {},
): Promise<HttpResult> {
  const rows: ScenarioResult[] = [];
  const servers: HttpResult["servers"] = {};
  const common = { API_KEY: `${TENANT}:${API_KEY}`, DATA_SOURCE: "fake", ...appEnv };
  const variants: { label: string; env: Record<string, string> }[] = [
    { label: "cached", env: { ...common, CACHE_DISABLED: "false" } },
    { label: "uncached", env: { ...common, CACHE_DISABLED: "true" } },
  ];
  for (const variant of variants) {
    const server = await startServer(variant.label, variant.env);
    log(
      `  server "${variant.label}" pid ${server.pid} on ${server.url} ${
        JSON.stringify(server.info)
      }`,
    );
    try {
      let baselineRps: number | undefined;
      const list = scenarios(plan, plan.connections);
      if (variant.label === "cached" && plan.singleDurationS > 0) {
        // One client at a time: the latency of a request itself, without queueing.
        list.push(
          ...scenarios(plan, 1).filter((s) => s.name === "campaign_insights" || s.name === "prompt")
            .map((s) => ({ ...s, name: `${s.name}_c1`, label: `${s.label} (c=1)` })),
        );
      }
      for (const scenario of list) {
        const single = scenario.connections === 1;
        const result = await runScenario(server, scenario, {
          durationS: single ? plan.singleDurationS : plan.durationS,
          warmupS: plan.warmupS,
        });
        if (scenario.name === "baseline") baselineRps = result.rps;
        if (result.available && !single && baselineRps) {
          result.ratio_to_baseline = round(result.rps! / baselineRps, 3);
          if (plan.adjacentBaselineS > 0 && scenario.name !== "baseline") {
            const adjacent = await runLoadgen({
              url: `${server.url}/bench/baseline`,
              connections: plan.connections,
              duration: plan.adjacentBaselineS,
              warmup: Math.min(1, plan.warmupS),
            });
            result.adjacent_baseline_rps = adjacent.rps;
            result.ratio_to_adjacent_baseline = round(result.rps! / adjacent.rps, 3);
          }
        }
        rows.push(result);
        if (scenario.name === "campaign_insights" && !single && result.response) {
          // The trivial route again, answering as many bytes as this route did.
          const r = result.response;
          const sized = await runScenario(server, {
            name: "baseline_sized",
            label: "baseline, response sized like the insights one",
            path: `/bench/baseline-sized?bytes=${r.body_bytes}&headers=${r.headers}` +
              `&header_bytes=${r.header_bytes}`,
            auth: false,
            connections: scenario.connections,
          }, { durationS: plan.durationS, warmupS: plan.warmupS });
          if (baselineRps) sized.ratio_to_baseline = round(sized.rps! / baselineRps, 3);
          rows.push(sized);
          result.ratio_to_sized_baseline = round(result.rps! / sized.rps!, 3);
          log(
            `  ${variant.label} baseline_sized: ${sized.rps} req/s, p99 ${sized.p99_ms} ms; ` +
              `insights = ${result.ratio_to_sized_baseline}× of it`,
          );
        }
        log(
          result.available
            ? `  ${variant.label} ${scenario.name}: ${result.rps} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms` +
              (result.ratio_to_baseline !== undefined
                ? `, ${result.ratio_to_baseline}× baseline`
                : "")
            : `  ${variant.label} ${scenario.name}: ${result.note}`,
        );
      }
    } finally {
      const memory = await server.stop();
      servers[variant.label] = {
        env: Object.fromEntries(
          Object.entries(variant.env).map((
            [k, v],
          ) => [k, k === "API_KEY" ? `${TENANT}:***` : /URL/.test(k) ? redactUrl(v) : v]),
        ),
        info: server.info,
        memory,
      };
      log(`  server "${variant.label}" memory: ${JSON.stringify(memory)}`);
    }
  }
  let profile: HttpResult["profile"] = null;
  if (plan.profileS > 0) {
    const server = await startServer("profiled", variants[0].env, { inspect: true });
    try {
      if (!server.inspector) throw new Error("the profiled server printed no inspector URL");
      const spec: LoadSpec = {
        url: `${server.url}${plan.campaignPath}`,
        headers: { authorization: `Bearer ${API_KEY}` },
        connections: plan.connections,
        duration: plan.profileS,
      };
      // Warm-up before the profiler starts, so the profile shows the steady state.
      if (plan.warmupS > 0) await runLoadgen({ ...spec, duration: plan.warmupS });
      let load: LoadResult | undefined;
      const cpu = await captureProfile(server.inspector, async () => load = await runLoadgen(spec));
      profile = {
        route: "GET /campaign/:id/insights (cached)",
        seconds: plan.profileS,
        rps_while_profiled: load!.rps,
        summary: summarizeProfile(cpu),
      };
      log(`  profile: ${JSON.stringify(profile.summary.by_source.slice(0, 6))}`);
    } finally {
      await server.stop();
    }
  }
  return {
    profile,
    connections: plan.connections,
    duration_s: plan.durationS,
    warmup_s: plan.warmupS,
    loadgen: "autocannon (npm), own Deno process",
    servers,
    rows,
  };
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "***";
  }
}
