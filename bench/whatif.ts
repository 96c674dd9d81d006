/**
 * A what-if experiment on the cached insights route: the same bench server, data and
 * load as `deno task bench`, as is and then with the costs the CPU profile names taken
 * away one at a time: the per-request access log (LOG_LEVEL=warn), then the Redis
 * round trip and Redis's own CPU on the shared cores (the in-process memory cache).
 * Each variant reports the cached route beside the baseline route of the same server
 * process. Needs the scale data set of a previous `deno task bench` (same
 * BENCH_DATABASE_URL / BENCH_REDIS_URL). Not part of `deno task bench`.
 *
 *   deno run -A bench/whatif.ts
 */
import { round } from "./stats.ts";
import { API_KEY, runScenario, type Scenario, startServer, TENANT } from "./http.ts";
import { makePlan } from "./run.ts";
import { urlWithSearchPath } from "./db.ts";

const ROOT = new URL("../", import.meta.url);

const plan = makePlan([]);
const durationS = plan.http.durationS;
const warmupS = plan.http.warmupS;
const appEnv: Record<string, string> = {
  API_KEY: `${TENANT}:${API_KEY}`,
  DEFAULT_TIME_ZONE: "UTC",
  ...(plan.databaseUrl
    ? { DATABASE_URL: urlWithSearchPath(plan.databaseUrl, plan.scale.schema) }
    : {
      DATA_DIR: new URL(`data/bench/pglite-${plan.scale.campaigns}x${plan.scale.days}`, ROOT)
        .pathname,
    }),
  ...(plan.redisUrl
    ? { REDIS_URL: plan.redisUrl, CACHE_KEY_PREFIX: `bench-whatif:${Date.now()}:` }
    : {}),
};

const variants: { name: string; env: Record<string, string>; memory?: boolean }[] = [
  { name: "as is (LOG_LEVEL=info)", env: { LOG_LEVEL: "info" } },
  { name: "LOG_LEVEL=warn", env: { LOG_LEVEL: "warn" } },
  { name: "LOG_LEVEL=warn, memory cache", env: { LOG_LEVEL: "warn" }, memory: true },
];

const scenarios: Scenario[] = [
  { name: "baseline", label: "baseline", path: "/bench/baseline", auth: false, connections: 50 },
  {
    name: "campaign_insights",
    label: "cached insights",
    path: plan.http.campaignPath,
    auth: true,
    connections: plan.http.connections,
  },
];

for (const variant of variants) {
  const env = { ...appEnv, ...variant.env };
  if (variant.memory) {
    delete env.REDIS_URL;
    delete env.CACHE_KEY_PREFIX;
  }
  const server = await startServer(variant.name, env);
  try {
    const [baseline, cached] = [
      await runScenario(server, scenarios[0], { durationS, warmupS }),
      await runScenario(server, scenarios[1], { durationS, warmupS }),
    ];
    const line = `${variant.name.padEnd(38)} baseline ${String(baseline.rps).padStart(8)} req/s  ` +
      `cached ${String(cached.rps).padStart(7)} req/s (${
        round(cached.rps! / baseline.rps! * 100, 1)
      }%), ` +
      `p50 ${cached.p50_ms} ms, p99 ${cached.p99_ms} ms, load ${cached.loadavg_1m?.toFixed(2)}`;
    console.log(line);
  } finally {
    await server.stop();
  }
}
