/**
 * The dashboard's budget, measured in a real browser against `main.ts serve` with the
 * 90-day demo data (the fake source's backfill, PGlite unless BENCH_DATABASE_URL is set):
 *
 * 1. First load: bytes transferred (gzip) by a fresh browser from opening `/` to the
 *    overview drawn after sign-in, JS included. Budget: 150 KB.
 * 2. Time to tiles and chart: from submitting the sign-in form to the KPI tiles and the
 *    chart drawn (the page's `dashboard-ready` mark), cold (first visit after start) and
 *    warm. Budget: 1 s.
 * 3. Live updates when nothing changes: Server-Sent Events (`/events`) against polling
 *    `/data-version` with ETag/304 every second, for the same number of open pages; the
 *    server's CPU time (/proc) and the bytes on the wire both ways (counted by a TCP
 *    proxy in front of the server), per minute.
 *
 *   deno run -A bench/dashboard.ts [--json bench/results/dashboard.json]
 *
 * Knobs: BENCH_DASHBOARD_RUNS (5 sign-ins), BENCH_DASHBOARD_IDLE_S (30 s per live
 * mode), BENCH_DASHBOARD_CLIENTS (10 open pages), BENCH_DATABASE_URL.
 */
import { parseArgs } from "node:util";
import { chromium, type Page } from "playwright-core";
import { STREAM_LIFETIME_MS } from "../handlers/live.ts";

const ROOT = new URL("../", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;
/** The app without ingestion (bench/server.ts): nothing changes while pages sit idle. */
const QUIET_SERVER = new URL("bench/server.ts", ROOT).pathname;
const CHROMIUM = "/usr/bin/chromium";
const KEY = "bench-dashboard-key-0001";
const BUDGET_KB = 150;
const BUDGET_MS = 1000;

const RUNS = Number(Deno.env.get("BENCH_DASHBOARD_RUNS") ?? 5);
const IDLE_S = Number(Deno.env.get("BENCH_DASHBOARD_IDLE_S") ?? 30);
const CLIENTS = Number(Deno.env.get("BENCH_DASHBOARD_CLIENTS") ?? 10);
/** Polling must see a change within 2 s, like SSE: once a second. */
const POLL_INTERVAL_MS = 1000;

interface Server {
  base: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

async function startServer(
  env: Record<string, string>,
  waitFor: RegExp,
  args = [MAIN, "serve"],
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", ...args],
    env: { PORT: "0", LOG_LEVEL: "info", API_KEY: `default:${KEY}`, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  child.status.then(() => (exited = true));
  const listening = /"msg":"(?:bench server )?listening","port":(\d+)/;
  const deadline = Date.now() + 600_000;
  while (!waitFor.test(text) || !listening.test(text)) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      throw new Error(`server did not get ready:\n${text.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const port = Number(listening.exec(text)![1]);
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => text,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await pumping;
    },
  };
}

/** The process's CPU time so far (user + system), in milliseconds. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100;
  return (Number(fields[11]) + Number(fields[12])) * 1000 / ticksPerSecond;
}

/** A TCP proxy in front of the server that counts the bytes in each direction. */
function countingProxy(target: URL) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counts = { up: 0, down: 0 };
  const connections = new Set<Deno.Conn>();
  const copy = async (from: Deno.Conn, to: Deno.Conn, direction: "up" | "down") => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const read = await from.read(buffer);
        if (read === null) break;
        counts[direction] += read;
        let written = 0;
        while (written < read) written += await to.write(buffer.subarray(written, read));
      }
    } catch {
      // A side closed: the other copy ends too.
    } finally {
      try {
        await to.closeWrite();
      } catch {
        // already closed
      }
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({
        hostname: target.hostname,
        port: Number(target.port),
      });
      connections.add(client).add(upstream);
      Promise.all([copy(client, upstream, "up"), copy(upstream, client, "down")]).finally(() => {
        for (const conn of [client, upstream]) {
          connections.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      });
    }
  })().catch(() => {});
  return {
    base: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    counts,
    reset() {
      counts.up = 0;
      counts.down = 0;
    },
    async close() {
      listener.close();
      for (const conn of connections) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await accepting;
    },
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function signInAndWait(
  page: Page,
  base: string,
): Promise<{ inPageMs: number; wallMs: number }> {
  await page.goto(`${base}/`);
  await page.fill('[data-testid="signin-key"]', KEY);
  const started = performance.now();
  await page.click('[data-testid="signin-submit"]');
  await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
  const wallMs = performance.now() - started;
  const inPageMs = await page.evaluate(() => {
    const submitted = performance.getEntriesByName("signin-submitted")[0].startTime;
    const ready = performance.getEntriesByName("dashboard-ready")[0].startTime;
    return ready - submitted;
  });
  return { inPageMs, wallMs };
}

async function browserFigures(base: string) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    // First load: a fresh profile, every byte counted by the browser's network layer.
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const bytes = new Map<string, { url: string; bytes: number; type: string }>();
    cdp.on("Network.responseReceived", (event) => {
      bytes.set(event.requestId, { url: event.response.url, bytes: 0, type: event.type });
    });
    cdp.on("Network.loadingFinished", (event) => {
      const entry = bytes.get(event.requestId);
      if (entry) entry.bytes = event.encodedDataLength;
    });
    const first = await signInAndWait(page, base);
    // The tables arrive after the tiles and chart: count them too.
    await page.waitForSelector('[data-testid="campaign-row"]', { timeout: 30_000 });
    await page.waitForTimeout(300);
    const entries = [...bytes.values()].filter((entry) => !entry.url.endsWith("/events"));
    const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const js = entries.filter((entry) => entry.type === "Script")
      .reduce((sum, entry) => sum + entry.bytes, 0);
    const api = entries.filter((entry) => entry.type === "Fetch" || entry.type === "XHR")
      .reduce((sum, entry) => sum + entry.bytes, 0);
    await context.close();

    // Tiles and chart after sign-in: a new browser context each time (no session).
    const runs = [first];
    for (let i = 1; i < RUNS; i++) {
      const fresh = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      runs.push(await signInAndWait(await fresh.newPage(), base));
      await fresh.close();
    }
    return {
      first_load: {
        kb_total: round(total / 1024),
        kb_js: round(js / 1024),
        kb_api: round(api / 1024),
        requests: entries.length,
        budget_kb: BUDGET_KB,
      },
      tiles_and_chart_ms: {
        cold: round(runs[0].inPageMs, 0),
        median: round(median(runs.map((run) => run.inPageMs)), 0),
        max: round(Math.max(...runs.map((run) => run.inPageMs)), 0),
        median_wall_clock: round(median(runs.map((run) => run.wallMs)), 0),
        runs: runs.length,
        budget_ms: BUDGET_MS,
      },
    };
  } finally {
    await browser.close();
  }
}

/** Idle pages for IDLE_S seconds: the server's CPU and the bytes both ways, per minute. */
async function liveCost(server: Server) {
  const proxy = countingProxy(new URL(server.base));
  const auth = { Authorization: `Bearer ${KEY}` };
  const perMinute = (value: number) => value * 60 / IDLE_S;
  const measure = async (run: (signal: AbortSignal) => Promise<void>[]) => {
    // Connect first, then measure only the idle time.
    const controller = new AbortController();
    const tasks = run(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    proxy.reset();
    const cpuBefore = await cpuMs(server.pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
    const cpu = await cpuMs(server.pid) - cpuBefore;
    const { up, down } = proxy.counts;
    controller.abort();
    await Promise.allSettled(tasks);
    return {
      server_cpu_ms_per_min: round(perMinute(cpu)),
      kb_per_min_per_page: round(perMinute((up + down) / CLIENTS) / 1024, 2),
      requests_per_min_per_page: 0,
    };
  };

  const nothing = await measure(() => []);

  const sse = await measure((signal) =>
    Array.from({ length: CLIENTS }, async () => {
      // Like EventSource: when the server ends a stream (its lifetime), connect again.
      while (!signal.aborted) {
        try {
          const response = await fetch(`${proxy.base}/events`, { headers: auth, signal });
          for await (const _chunk of response.body!) {
            // An idle page only listens.
          }
        } catch {
          break;
        }
      }
    })
  );
  // One reconnect per stream lifetime (counted in the bytes when the idle time covers one).
  sse.requests_per_min_per_page = round(60_000 / STREAM_LIFETIME_MS, 2);

  let polls = 0;
  const polling = await measure((signal) =>
    Array.from({ length: CLIENTS }, async () => {
      let etag = "";
      while (!signal.aborted) {
        try {
          const response = await fetch(`${proxy.base}/data-version`, {
            headers: { ...auth, ...(etag ? { "If-None-Match": etag } : {}) },
            signal,
          });
          etag = response.headers.get("ETag") ?? etag;
          await response.body?.cancel();
          polls++;
        } catch {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    })
  );
  polling.requests_per_min_per_page = round(60_000 / POLL_INTERVAL_MS, 0);
  await proxy.close();
  const net = (cost: { server_cpu_ms_per_min: number }) =>
    round(Math.max(0, cost.server_cpu_ms_per_min - nothing.server_cpu_ms_per_min));
  return {
    pages: CLIENTS,
    idle_seconds: IDLE_S,
    baseline_server_cpu_ms_per_min: nothing.server_cpu_ms_per_min,
    sse: { ...sse, server_cpu_ms_per_min_over_baseline: net(sse) },
    polling_1s_etag: {
      ...polling,
      server_cpu_ms_per_min_over_baseline: net(polling),
      polls_answered: polls,
    },
  };
}

async function main() {
  const { values } = parseArgs({ args: Deno.args, options: { json: { type: "string" } } });
  const dataDir = await Deno.makeTempDir({ prefix: "bench-dashboard-" });
  const database = Deno.env.get("BENCH_DATABASE_URL");
  const storage: Record<string, string> = database
    ? { DATABASE_URL: database }
    : { DATA_DIR: dataDir };
  try {
    console.log("dashboard bench: starting serve with the 90-day demo data (backfill)…");
    const demo = await startServer(
      { ...storage, DATA_SOURCE: "fake", FAKE_BACKFILL_DAYS: "90" },
      /"msg":"backfill finished"/,
    );
    let browser;
    try {
      browser = await browserFigures(demo.base);
    } finally {
      await demo.stop();
    }
    // Idle: the same data, no ingestion (the streamer would change the data every 2 s).
    console.log("dashboard bench: idle live-update cost, SSE against ETag polling…");
    const idle = await startServer({ ...storage }, /./, [QUIET_SERVER]);
    let live;
    try {
      live = await liveCost(idle);
    } finally {
      await idle.stop();
    }
    const results = { measured_at: new Date().toISOString(), ...browser, live_idle: live };
    console.log(JSON.stringify(results, null, 2));
    const fl = results.first_load;
    const tc = results.tiles_and_chart_ms;
    console.log(
      `first load ${fl.kb_total} KB (JS ${fl.kb_js} KB, API ${fl.kb_api} KB) ` +
        `${fl.kb_total <= BUDGET_KB ? "within" : "OVER"} the ${BUDGET_KB} KB budget; ` +
        `tiles+chart ${tc.median} ms median (cold ${tc.cold} ms, max ${tc.max} ms) ` +
        `${tc.max <= BUDGET_MS ? "within" : "OVER"} ${BUDGET_MS} ms; idle per page per minute: ` +
        `SSE ${live.sse.kb_per_min_per_page} KB, ${live.sse.server_cpu_ms_per_min_over_baseline} ms CPU ` +
        `(all ${CLIENTS} pages) vs polling ${live.polling_1s_etag.kb_per_min_per_page} KB, ` +
        `${live.polling_1s_etag.server_cpu_ms_per_min_over_baseline} ms CPU`,
    );
    if (values.json) {
      await Deno.mkdir(new URL(".", new URL(values.json, `file://${Deno.cwd()}/`)), {
        recursive: true,
      });
      await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2) + "\n");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
