/**
 * A CPU profile of the cached insights route of one checkout's bench server (the same
 * server and environment as bench/cached_ab.ts), for "what does a cached request cost":
 * warm-up, then a sampling profile through the inspector while autocannon loads the
 * route. Prints the functions with the most self time and the share per source; the raw
 * profile is written beside it for DevTools when --out is given.
 *
 *   deno run -A bench/cached_profile.ts [--seconds 5] [--out FILE.cpuprofile] [DIR]
 */
import { parseArgs } from "node:util";
import { API_KEY, runLoadgen, startServer, TENANT } from "./http.ts";
import { captureProfile, summarizeProfile } from "./profile.ts";
import { makePlan } from "./run.ts";
import { urlWithSearchPath } from "./db.ts";

const ROOT = new URL("../", import.meta.url);
const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string" }, out: { type: "string" }, top: { type: "string" } },
  allowPositionals: true,
});
const dir = positionals[0] ?? ".";
const server = `${dir === "." ? ROOT.pathname : `${dir.replace(/\/$/, "")}/`}bench/server.ts`;
const plan = makePlan([]);
if (!plan.databaseUrl) throw new Error("set BENCH_DATABASE_URL (and BENCH_REDIS_URL)");
const env: Record<string, string> = {
  API_KEY: `${TENANT}:${API_KEY}`,
  DEFAULT_TIME_ZONE: "UTC",
  LOG_LEVEL: "info",
  DATABASE_URL: urlWithSearchPath(plan.databaseUrl, plan.scale.schema),
  ...(plan.redisUrl
    ? {
      REDIS_URL: plan.redisUrl,
      CACHE_KEY_PREFIX: `${Deno.env.get("BENCH_CACHE_KEY_PREFIX") ?? "bench-prof"}:${Date.now()}:`,
    }
    : {}),
};
const seconds = Number(values.seconds ?? 5);
const started = await startServer("profiled", env, { inspect: true, server });
try {
  if (!started.inspector) throw new Error("the profiled server printed no inspector URL");
  const spec = {
    url: `${started.url}${plan.http.campaignPath}`,
    headers: { authorization: `Bearer ${API_KEY}` },
    connections: plan.http.connections,
    duration: seconds,
  };
  await runLoadgen({ ...spec, duration: Math.max(1, plan.http.warmupS) });
  let rps = 0;
  const profile = await captureProfile(started.inspector, async () => {
    rps = (await runLoadgen(spec)).rps;
  });
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(profile));
  const summary = summarizeProfile(profile, Number(values.top ?? 25));
  console.log(`load average ${Deno.loadavg()[0]}; ${rps} req/s while profiled (inspector on)`);
  console.log(`busy share ${summary.busy_share} of ${summary.sampled_ms} ms sampled`);
  console.log("self time by source:");
  for (const s of summary.by_source) {
    console.log(`  ${(s.self_share * 100).toFixed(1)}%  ${s.source}`);
  }
  console.log("top functions by self time:");
  for (const f of summary.top_self) {
    console.log(`  ${(f.self_share * 100).toFixed(1)}%  ${f.function}  ${f.where}`);
  }
} finally {
  await started.stop();
}
