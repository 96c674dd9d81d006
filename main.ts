/**
 * The one entry point, with subcommands (as the seed's main.go):
 *
 *   serve     the API (+ /prompt) and ingestion: the fake streamer, or Deno.cron syncs
 *   bot       the bot alone on BOT_PORT, calling the API at ANALYTICS_API_URL
 *   ask       answer one question and exit:  [--json] [--tenant NAME] "question"
 *   ingest    one sync pass, then exit:  [--source meta] [--from YYYY-MM-DD --to YYYY-MM-DD]
 *   import    load a CSV or NDJSON file of rows, then exit:  FILE [--tenant T] [--source NAME]
 *   migrate   apply pending migrations, then exit
 *   mcp       the MCP server over stdio for a local agent (runtime/mcp.ts, docs/mcp.md)
 *
 * Each command parses the environment once into its settings (runtime/settings.ts; every
 * variable is listed in docs/configuration.md) and hands each part its section.
 */
import { parseArgs } from "node:util";
import { ConfigError, type Env } from "./lib/config.ts";
import { isCalendarDate } from "./lib/dates.ts";
import { createLogger } from "./lib/log.ts";
import { buildServices, type Services } from "./runtime/services.ts";
import { openDatabase } from "./runtime/database.ts";
import { registerIngestCron } from "./ingest/cron.ts";
import { SourceNameSchema } from "./ingest/source.ts";
import { installPostgresCrashGuard } from "./runtime/crash_guard.ts";
import { serveUntilSignal } from "./runtime/http_server.ts";
import { startStorageUpkeep } from "./runtime/storage_upkeep.ts";
import { ask, botExtensions, runBot } from "./runtime/bot.ts";
import {
  loadBotSettings,
  loadMcpSettings,
  loadMigrateSettings,
  loadPipelineSettings,
  loadServeSettings,
} from "./runtime/settings.ts";
import { runMcp } from "./runtime/mcp.ts";
import { importFile } from "./runtime/import_file.ts";

const COMMANDS = ["serve", "ingest", "import", "migrate", "bot", "ask", "mcp"] as const;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const env = Deno.env.toObject();
  installPostgresCrashGuard(createLogger({ level: "warn" }));
  switch (command) {
    case "serve":
      return await serve(env);
    case "ingest":
      return await ingestOnce(env, rest);
    case "import":
      await importFile(env, rest);
      return 0;
    case "migrate":
      return await migrateOnly(env);
    case "bot":
      return await runBot(loadBotSettings(env));
    case "ask":
      return await ask(loadServeSettings(env), rest);
    case "mcp":
      return await runMcp(loadMcpSettings(env));
    default:
      console.error(`usage: main.ts <${COMMANDS.join("|")}> [options]`);
      return 2;
  }
}

async function serve(env: Env): Promise<number> {
  const settings = loadServeSettings(env);
  const services = await buildServices(settings, { extensions: botExtensions(settings.bot) });
  const { config, logger, fetch } = services;
  if (services.generatedApiKey) {
    // Printed once, on purpose not through the logger (which redacts keys).
    console.log(
      `No API_KEY or JWT settings: this process accepts the generated key ${services.generatedApiKey} ` +
        `(tenant "default") and listens on 127.0.0.1 only. Set API_KEY to choose your own.`,
    );
  }
  // Without configured credentials this is a local try-out: reachable from this machine
  // only (the MCP endpoint included), never from the network with a key nobody chose.
  const hostname = services.generatedApiKey ? "127.0.0.1" : undefined;
  const stopped = serveUntilSignal(fetch, { port: config.PORT, hostname, logger });
  void startStorageUpkeep(services.db.driver, settings.storage, logger);
  startIngestion(services);
  await stopped;
  await services.close();
  logger.info("stopped");
  return 0;
}

function startIngestion(services: Services): void {
  const { ingestConfig, logger, streamer, dispatcher } = services;
  if (streamer) {
    streamer.start().catch((error) => logger.error("fake streamer failed to start", { error }));
    return;
  }
  const jobs = registerIngestCron(dispatcher, ingestConfig.INGEST_SCHEDULE, logger);
  logger.info("scheduled ingestion", { schedule: ingestConfig.INGEST_SCHEDULE, jobs });
}

async function ingestOnce(env: Env, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: "string", multiple: true },
      from: { type: "string" },
      to: { type: "string" },
    },
  });
  const sources = (values.source ?? []).flatMap((s) => s.split(",")).map((name) => {
    const parsed = SourceNameSchema.safeParse(name.trim().toLowerCase());
    if (!parsed.success) throw usage(`--source: unknown source "${name}"`);
    return parsed.data;
  });
  if ((values.from === undefined) !== (values.to === undefined)) {
    throw usage("--from and --to go together");
  }
  for (const [flag, value] of [["--from", values.from], ["--to", values.to]] as const) {
    if (value !== undefined && !isCalendarDate(value)) {
      throw usage(`${flag}: expected YYYY-MM-DD`);
    }
  }
  const services = await buildServices(loadPipelineSettings(env));
  try {
    const configured = services.sources.map((source) => source.name);
    const unknown = sources.filter((name) => !configured.includes(name));
    if (unknown.length) {
      throw usage(
        `--source ${unknown.join(",")}: not enabled here (enabled: ${configured.join(", ")}; ` +
          "see DATA_SOURCE and ENABLED_SOURCES)",
      );
    }
    const window = values.from && values.to ? { from: values.from, to: values.to } : undefined;
    const reports = await services.dispatcher.runAll({
      sources: sources.length ? sources : undefined,
      window,
    });
    for (const report of reports) console.log(JSON.stringify(report));
    return reports.some((report) => report.status === "failed") ? 1 : 0;
  } finally {
    await services.close();
  }
}

function usage(problem: string): ConfigError {
  return new ConfigError({ problems: [problem], context: "ingest" });
}

async function migrateOnly(env: Env): Promise<number> {
  const { app: config } = loadMigrateSettings(env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: 2,
  }, logger);
  await db.close();
  logger.info("migrations up to date");
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
