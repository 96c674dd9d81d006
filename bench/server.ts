/**
 * The benchmark's server: the real app, composed by `buildServices(env)` exactly as
 * `main.ts serve` composes it, plus one trivial route on the same server and port
 * (`GET /bench/baseline`, no auth, a tiny JSON body) that every HTTP figure is
 * compared with. It is started as its own process by bench/http.ts, so it never
 * shares an event loop with the load generator or the orchestrator.
 *
 * What it does not do: start ingestion. The fake streamer would write (and bump the
 * data version) every few seconds, which is a different benchmark from "dashboards
 * reading". Configuration is the app's own environment variables (DATABASE_URL or
 * DATA_DIR, REDIS_URL, CACHE_DISABLED, API_KEY, LOG_LEVEL, PORT, ...).
 *
 * Routes added by extensions (the bot's POST /prompt): mounted the way `main.ts serve`
 * mounts them, `buildServices(env, { extensions: botExtensions(env) })`. The module is
 * looked up at run time (`BENCH_EXTENSIONS=path/from/repo/root.ts#exportName` overrides
 * it), so a checkout without the bot still benchmarks everything else: /prompt then
 * answers 404 and the benchmark reports it as "not available".
 */
import { Hono } from "hono";
import { buildServices, type ServiceOptions } from "../runtime/services.ts";
import { type BotConfig, loadServeSettings } from "../runtime/settings.ts";
import { createLogger } from "../lib/log.ts";

type ExtensionFactory = NonNullable<ServiceOptions["extensions"]>;

/**
 * Where the extensions `main.ts serve` mounts are exported: `(bot settings) => (services)
 * => AppExtension[]`, as `runtime/bot.ts#botExtensions` is.
 */
export const DEFAULT_EXTENSIONS = "runtime/bot.ts#botExtensions";

const ROOT = new URL("../", import.meta.url);

async function moduleExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(new URL(path, ROOT))).isFile;
  } catch {
    return false;
  }
}

/** The extension factory to mount, and where it came from (for the log line). */
async function findExtensions(
  env: Record<string, string | undefined>,
  bot: BotConfig,
): Promise<{ factory: ExtensionFactory; from: string } | undefined> {
  const where = env.BENCH_EXTENSIONS?.trim() || DEFAULT_EXTENSIONS;
  const [module, name = "default"] = where.split("#");
  if (!(await moduleExists(module))) return undefined;
  const loaded = await import(new URL(module, ROOT).href) as Record<string, unknown>;
  const build = loaded[name];
  if (typeof build !== "function") return undefined;
  const factory = (build as (bot: BotConfig) => unknown)(bot);
  if (typeof factory !== "function") {
    throw new Error(`${where}(bot settings) did not return an extension factory`);
  }
  return { factory: factory as ExtensionFactory, from: where };
}

export async function startBenchServer(env: Record<string, string | undefined>) {
  const settings = loadServeSettings(env);
  const logger = createLogger({ level: settings.app.LOG_LEVEL });
  const found = await findExtensions(env, settings.bot);
  const services = await buildServices(settings, {
    logger,
    ...(found ? { extensions: found.factory } : {}),
  });
  const baseline = new Hono();
  baseline.get("/bench/baseline", (c) => c.json({ ok: true }));
  // The same trivial work, but a response as large as another route's (body bytes and
  // header count/bytes given by the caller): separates what the app costs from what a
  // bigger response costs the load generator and the HTTP layer.
  const sized = new Map<string, { body: string; headers: [string, string][] }>();
  baseline.get("/bench/baseline-sized", (c) => {
    const key = c.req.url;
    let response = sized.get(key);
    if (!response) {
      const bytes = Math.min(1 << 20, Number(c.req.query("bytes") ?? 0));
      const count = Math.min(64, Number(c.req.query("headers") ?? 0));
      const headerBytes = Math.min(1 << 14, Number(c.req.query("header_bytes") ?? 0));
      const per = count > 0 ? Math.max(1, Math.floor(headerBytes / count) - 12) : 0;
      response = {
        body: JSON.stringify({ pad: "x".repeat(Math.max(0, bytes - 10)) }),
        headers: Array.from({ length: count }, (_, i) => [`x-pad-${i}`, "v".repeat(per)]),
      };
      sized.set(key, response);
    }
    for (const [name, value] of response.headers) c.header(name, value);
    return c.body(response.body, 200, { "content-type": "application/json" });
  });
  // What main.ts serves: the cached-read fast path in front of the app (when the
  // checkout has one).
  const serve = services.fetch ?? ((request: Request) => services.app.fetch(request));
  const handler = (request: Request): Response | Promise<Response> => {
    // Plain string work: the dispatch itself must cost next to nothing.
    const url = request.url;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return path.startsWith("/bench/baseline") ? baseline.fetch(request) : serve(request);
  };
  const shutdown = new AbortController();
  const server = Deno.serve({
    port: Number(env.PORT ?? 8080),
    hostname: "127.0.0.1",
    signal: shutdown.signal,
    onListen: ({ port }) =>
      console.error(JSON.stringify({
        msg: "bench server listening",
        port,
        extensions: found?.from ?? null,
        cache: services.reader.health().backend,
        cache_enabled: services.reader.enabled,
        database: services.db.kind,
      })),
  }, handler);
  const stop = () => {
    if (!shutdown.signal.aborted) shutdown.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  await services.close();
}

if (import.meta.main) {
  await startBenchServer(Deno.env.toObject());
}
