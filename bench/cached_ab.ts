/**
 * A/B of the cached insights route between versions of the code, back to back on the
 * same data, load and machine: each version's bench server (same environment as
 * `deno task bench`) measured against its own in-process baseline, in alternating
 * rounds. Versions are directories holding a checkout (e.g. made with `git archive`);
 * "." is this one. Needs the scale data set of a previous `deno task bench`.
 *
 *   deno run -A bench/cached_ab.ts [--rounds 2] [--sized] NAME=DIR [NAME=DIR ...]
 *
 * --sized also measures the trivial route answering as many bytes as the cached one;
 * --path last30 (or platform) measures a cached `GET /insights` instead of one campaign's.
 *
 * BENCH_CACHE_KEY_PREFIX (default "bench-ab") starts the servers' Redis key prefix.
 */
import { parseArgs } from "node:util";
import { round } from "./stats.ts";
import { API_KEY, runScenario, type Scenario, startServer, TENANT } from "./http.ts";
import { makePlan } from "./run.ts";
import { urlWithSearchPath } from "./db.ts";

const ROOT = new URL("../", import.meta.url);
const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, sized: { type: "boolean" }, path: { type: "string" } },
  allowPositionals: true,
});
const versions = positionals.map((item) => {
  const [name, dir] = item.split("=");
  const root = dir === "." ? ROOT.pathname : `${dir.replace(/\/$/, "")}/`;
  return { name, server: `${root}bench/server.ts` };
});
const rounds = Number(values.rounds ?? 2);
const plan = makePlan([]);
const appEnv: Record<string, string> = {
  API_KEY: `${TENANT}:${API_KEY}`,
  DEFAULT_TIME_ZONE: "UTC",
  LOG_LEVEL: "info",
  ...(plan.databaseUrl
    ? { DATABASE_URL: urlWithSearchPath(plan.databaseUrl, plan.scale.schema) }
    : {
      DATA_DIR: new URL(`data/bench/pglite-${plan.scale.campaigns}x${plan.scale.days}`, ROOT)
        .pathname,
    }),
  ...(plan.redisUrl ? { REDIS_URL: plan.redisUrl } : {}),
};
const scenarios: Scenario[] = [
  { name: "baseline", label: "baseline", path: "/bench/baseline", auth: false, connections: 50 },
  {
    name: "campaign_insights",
    label: "cached insights",
    path: values.path === "last30"
      ? plan.http.last30Path!
      : values.path === "platform"
      ? plan.http.platformPath
      : plan.http.campaignPath,
    auth: true,
    connections: plan.http.connections,
  },
];
/** The server process's CPU seconds so far (user + system, from /proc). */
function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const results: Record<
  string,
  { ratio: number[]; p99: number[]; rps: number[]; cpuUs: number[] }
> = {};
for (let r = 0; r < rounds; r++) {
  for (const version of versions) {
    const env = {
      ...appEnv,
      ...(plan.redisUrl
        ? {
          CACHE_KEY_PREFIX: `${
            Deno.env.get("BENCH_CACHE_KEY_PREFIX") ?? "bench-ab"
          }:${Date.now()}:`,
        }
        : {}),
    };
    const server = await startServer(version.name, env, { server: version.server });
    try {
      const cpuStart = cpuSeconds(server.pid);
      const baseline = await runScenario(server, scenarios[0], plan.http);
      const baselineCpuUs = (cpuSeconds(server.pid) - cpuStart) /
        (baseline.rps! * (plan.http.durationS + plan.http.warmupS)) * 1e6;
      const cpuBefore = cpuSeconds(server.pid);
      const cached = await runScenario(server, scenarios[1], plan.http);
      // Server CPU per cached request (warm-up included at the measured rate): far less
      // sensitive than req/s to what else runs on the machine.
      const served = cached.rps! * (plan.http.durationS + plan.http.warmupS);
      const cpuUs = (cpuSeconds(server.pid) - cpuBefore) / served * 1e6;
      const ratio = cached.rps! / baseline.rps!;
      let sizedNote = "";
      if (values.sized && cached.response) {
        // The trivial route answering as many body and header bytes as the cached one.
        const { body_bytes, headers, header_bytes } = cached.response;
        const cpuSized = cpuSeconds(server.pid);
        const sized = await runScenario(server, {
          ...scenarios[0],
          name: "baseline_sized",
          path: `/bench/baseline-sized?bytes=${body_bytes}&headers=${headers}` +
            `&header_bytes=${header_bytes}`,
        }, plan.http);
        const sizedCpuUs = (cpuSeconds(server.pid) - cpuSized) /
          (sized.rps! * (plan.http.durationS + plan.http.warmupS)) * 1e6;
        sizedNote = `; same-size trivial route ${sized.rps} req/s (cached ${
          round(cached.rps! / sized.rps! * 100, 1)
        }% of it), CPU ${round(sizedCpuUs, 1)} µs/request`;
      }
      const entry = results[version.name] ??= { ratio: [], p99: [], rps: [], cpuUs: [] };
      entry.cpuUs.push(cpuUs);
      entry.ratio.push(ratio);
      entry.p99.push(cached.p99_ms!);
      entry.rps.push(cached.rps!);
      console.log(
        `round ${r + 1} ${
          version.name.padEnd(16)
        } baseline ${baseline.rps} req/s, cached ${cached.rps} ` +
          `req/s (${round(ratio * 100, 1)}%), p50 ${cached.p50_ms} ms, p99 ${cached.p99_ms} ms, ` +
          `server CPU ${round(cpuUs, 1)} µs/request (baseline ${round(baselineCpuUs, 1)}), ` +
          `load ${Deno.loadavg()[0]}${sizedNote}`,
      );
    } finally {
      await server.stop();
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, entry] of Object.entries(results)) {
  console.log(
    `${name.padEnd(16)} median share ${round(median(entry.ratio) * 100, 1)}% of baseline, ` +
      `cached ${round(median(entry.rps), 0)} req/s, p99 ${round(median(entry.p99), 2)} ms, ` +
      `server CPU ${round(median(entry.cpuUs), 1)} µs/request`,
  );
}
