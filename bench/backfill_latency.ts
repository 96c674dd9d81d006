/**
 * Latency while the embedded database writes: `main.ts serve` on an empty DATA_DIR
 * (PGlite, memory cache, the fake source's backfill) and, from the moment it accepts
 * connections until it logs "backfill finished", closed-loop probes of `/healthz` and of a cached insights
 * read; then the same probes for a while on the idle server. The cached read is of a
 * second tenant, whose data version the backfill never bumps, so it measures whether
 * the HTTP thread is free, not cache misses behind the writer. The first probe of each
 * kind is sent as soon as the port accepts: a server whose thread the backfill holds answers it at
 * the end, and that wait is in the figures.
 *
 *   deno run -A bench/backfill_latency.ts [--days 90] [--idle-s 5] [--main path/to/main.ts]
 */
import { parseArgs } from "node:util";
import { type LatencySummary, round, summarize } from "./stats.ts";

export interface BackfillLatencyResult {
  backfill_days: number;
  backfill_s: number;
  backfill_rows: number | null;
  during: { healthz: LatencySummary; cached_insights: LatencySummary };
  idle: { healthz: LatencySummary; cached_insights: LatencySummary };
  targets: { healthz_p99_ms: number; cached_insights_p99_ms: number };
}

const KEYS = { writer: "bench-default-key", reader: "bench-other-key" };

/** A port free right now (the server is told to listen on it). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Waits until the server accepts connections. Not its "listening" log line: a server
 * whose thread a write holds writes that line only when the write ends, while the
 * kernel already accepts connections for it.
 */
async function accepting(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error("the server exited before listening");
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function probe(
  url: string,
  headers: Record<string, string>,
  until: () => boolean,
  into: number[],
): Promise<void> {
  while (!until()) {
    const t0 = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    into.push(performance.now() - t0);
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function runBackfillLatency(options: {
  days?: number;
  idleS?: number;
  mainTs?: string;
  log?: (line: string) => void;
} = {}): Promise<BackfillLatencyResult> {
  const days = options.days ?? 90;
  const idleS = options.idleS ?? 5;
  const log = options.log ?? ((line: string) => console.error(line));
  const mainTs = options.mainTs ?? new URL("../main.ts", import.meta.url).pathname;
  const dataDir = await Deno.makeTempDir({ prefix: "bench-backfill-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", mainTs, "serve"],
    env: {
      DATA_DIR: dataDir,
      PORT: String(port),
      API_KEY: `default:${KEYS.writer},other:${KEYS.reader}`,
      FAKE_BACKFILL_DAYS: String(days),
      LOG_LEVEL: "info",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let startedAt = 0;
  let finishedAt = 0;
  let accepted: number | null = null;
  const readLines = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "backfill finished") {
            finishedAt = performance.now();
            accepted = typeof entry.accepted === "number" ? entry.accepted : null;
          }
        } catch { /* not a log line */ }
      }
    }
  };
  const reading = Promise.all([readLines(child.stdout), readLines(child.stderr)]);
  try {
    await accepting(port, child);
    startedAt = performance.now();
    const base = `http://127.0.0.1:${port}`;
    const reader = { Authorization: `Bearer ${KEYS.reader}` };
    const insights = `${base}/insights?from=2024-01-01&to=2024-01-31`;
    // Probes start once the port accepts: the cached read's first request fills the second
    // tenant's entry (a miss, counted with the rest; its version never moves during the
    // backfill), and a request that starts during the backfill counts there even if the
    // backfill holds it to the end.
    const during = { healthz: [] as number[], cached: [] as number[] };
    const backfillDone = () => finishedAt > 0;
    await Promise.all([
      probe(`${base}/healthz`, {}, backfillDone, during.healthz),
      probe(insights, reader, backfillDone, during.cached),
    ]);
    log(`backfill of ${days} days took ${round((finishedAt - startedAt) / 1000, 1)} s`);
    const idle = { healthz: [] as number[], cached: [] as number[] };
    const idleEnd = performance.now() + idleS * 1000;
    const idleDone = () => performance.now() > idleEnd;
    await Promise.all([
      probe(`${base}/healthz`, {}, idleDone, idle.healthz),
      probe(insights, reader, idleDone, idle.cached),
    ]);
    return {
      backfill_days: days,
      backfill_s: round((finishedAt - startedAt) / 1000, 2),
      backfill_rows: accepted,
      during: { healthz: summarize(during.healthz), cached_insights: summarize(during.cached) },
      idle: { healthz: summarize(idle.healthz), cached_insights: summarize(idle.cached) },
      targets: { healthz_p99_ms: 100, cached_insights_p99_ms: 50 },
    };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await reading.catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { days: { type: "string" }, "idle-s": { type: "string" }, main: { type: "string" } },
  });
  const result = await runBackfillLatency({
    days: values.days ? Number(values.days) : undefined,
    idleS: values["idle-s"] ? Number(values["idle-s"]) : undefined,
    mainTs: values.main,
  });
  console.log(JSON.stringify(result, null, 2));
}
