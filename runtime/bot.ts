/**
 * The bot's entry points:
 *
 * - `botExtensions(env)`: `/prompt` (and `/slack/command` when SLACK_SIGNING_SECRET is set)
 *   mounted in-process on the API app by `main.ts serve`.
 * - `createBotApp(config)` / `runBot(env)`: the bot alone (`main.ts bot`, `deno task bot`)
 *   on BOT_PORT, without a database: it forwards each caller's bearer token to the API at
 *   ANALYTICS_API_URL, which authenticates it (as the seed's separate bot service did).
 * - `ask(env, args)`: one question from the command line (`deno task ask "..."`).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { parseArgs } from "node:util";
import { z } from "zod";
import { type Env, envInteger, loadAppConfig, parseEnv, tenantKeyList } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import {
  type AnalyticsClient,
  CatalogIndexCache,
  createHttpAnalyticsClient,
  type FetchLike,
} from "../lib/bot/client.ts";
import { type Answer, answerPrompt } from "../lib/bot/executor.ts";
import { catalogIndexFactory, type VectorStoreMode } from "../lib/bot/pg_vector.ts";
import { parseTeamTenants } from "../lib/bot/slack.ts";
import { isValidTimeZone } from "../lib/dates.ts";
import type { AppExtension } from "../handlers/app_factory.ts";
import { BadRequest } from "../handlers/params.ts";
import { unauthorized } from "../handlers/auth.ts";
import { bearerToken, internalAnalytics, promptExtension, readPrompt } from "../handlers/prompt.ts";
import { slackCommandHandler, slackExtension } from "../handlers/slack_command.ts";
import { buildServices, type Services } from "./services.ts";
import { serveUntilSignal } from "./http_server.ts";

const teamTenants = z.string().optional().transform((text, ctx) => {
  try {
    return parseTeamTenants(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

export const BotConfigSchema = z.object({
  BOT_PORT: envInteger(8081, 0, 65535),
  ANALYTICS_API_URL: z.url().default("http://localhost:8080"),
  ANALYTICS_API_TIMEOUT_MS: envInteger(10_000, 100, 120_000),
  /** The zone "today" and "this week" are read in; sent to the API as `tz`. */
  BOT_TIME_ZONE: z.string().default("UTC").refine(isValidTimeZone, "not an IANA time zone"),
  BOT_VECTOR_STORE: z.enum(["auto", "memory", "pgvector"]).default("auto"),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_TEAM_TENANTS: teamTenants,
  /** Standalone bot only: an API key per Slack tenant (`tenant:key,...`). */
  SLACK_API_KEYS: tenantKeyList().transform((keys) =>
    new Map(keys.map(({ tenant, key }) => [tenant, key]))
  ),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  MAX_BODY_BYTES: envInteger(64 * 1024, 1024, 512 * 1024 * 1024),
});
export type BotConfig = z.infer<typeof BotConfigSchema>;

export function loadBotConfig(env: Env): BotConfig {
  return parseEnv(BotConfigSchema, env, "bot settings");
}

// ---------------------------------------------------------------------------------
// In-process: mounted on the API app by `serve`
// ---------------------------------------------------------------------------------

/**
 * The bot's routes for `buildServices(env, { extensions: botExtensions(env) })`. The
 * configuration is read here, so a bad Slack setting stops `serve` at start-up.
 */
export function botExtensions(
  env: Env,
): (services: Pick<Services, "db" | "logger">) => AppExtension[] {
  const config = loadBotConfig(env);
  return (services) => {
    const catalogCache = new CatalogIndexCache({
      factory: catalogIndexFactory(services.db.driver, config.BOT_VECTOR_STORE as VectorStoreMode, {
        logger: services.logger,
      }),
    });
    const extensions = [promptExtension({ catalogCache })];
    if (config.SLACK_SIGNING_SECRET) {
      extensions.push(slackExtension({
        signingSecret: config.SLACK_SIGNING_SECRET,
        teamTenants: config.SLACK_TEAM_TENANTS,
        catalogCache,
      }));
    }
    return extensions;
  };
}

// ---------------------------------------------------------------------------------
// Standalone: the bot alone, calling the API over HTTP
// ---------------------------------------------------------------------------------

export interface BotAppOptions {
  /** How the API is reached (default: global fetch). */
  fetch?: FetchLike;
  clock?: () => Date;
  logger?: Logger;
}

export function createBotApp(config: BotConfig, options: BotAppOptions = {}): Hono {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const clock = options.clock ?? (() => new Date());
  const catalogCache = new CatalogIndexCache();
  const clientFor = (token: string): AnalyticsClient =>
    createHttpAnalyticsClient({
      baseUrl: config.ANALYTICS_API_URL,
      token,
      fetch: options.fetch,
      timeoutMs: config.ANALYTICS_API_TIMEOUT_MS,
      catalogCache,
    });

  const app = new Hono();
  app.use(secureHeaders());
  app.use(bodyLimit({
    maxSize: config.MAX_BODY_BYTES,
    onError: (c) =>
      c.json({ error: `body larger than ${config.MAX_BODY_BYTES} bytes`, field: "body" }, 413),
  }));
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.post("/prompt", async (c) => {
    // The bot authenticates nothing itself; it only refuses what cannot be a bearer token.
    if (!c.req.header("Authorization")) {
      return unauthorized("missing bearer token", { tokenSent: false });
    }
    const token = bearerToken(c);
    if (!token) {
      return unauthorized("malformed Authorization header: expected 'Bearer <token>'", {
        tokenSent: false,
      });
    }
    const prompt = await readPrompt(c);
    const client = clientFor(token);
    const answer: Answer = await answerPrompt(prompt, {
      client,
      now: clock(),
      timeZone: config.BOT_TIME_ZONE,
    });
    // A question that needed no API call still proves the token, as the API would.
    if (answer.data.requests.length === 0) {
      try {
        await client.campaigns({ limit: 1 });
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 401 || status === 403) {
          return c.json({ error: (error as Error).message }, status);
        }
      }
    }
    const data = answer.data;
    if (data.kind === "error" && (data.status === 401 || data.status === 403)) {
      return c.json({ error: data.message, ...answer }, data.status);
    }
    return c.json(answer);
  });

  if (config.SLACK_SIGNING_SECRET) {
    app.post(
      "/slack/command",
      slackCommandHandler({
        signingSecret: config.SLACK_SIGNING_SECRET,
        teamTenants: config.SLACK_TEAM_TENANTS,
        clientFor: (tenant) => {
          const key = config.SLACK_API_KEYS.get(tenant);
          return key ? clientFor(key) : undefined;
        },
        clock,
        timeZone: config.BOT_TIME_ZONE,
        logger,
      }),
    );
  }

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof BadRequest) {
      return c.json({ error: error.message, field: error.field }, 400);
    }
    logger.error("unhandled error", {
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}

/** `main.ts bot`: serves the bot on BOT_PORT until SIGINT/SIGTERM. */
export async function runBot(env: Env): Promise<number> {
  const config = loadBotConfig(env);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const app = createBotApp(config, { logger });
  await serveUntilSignal(app.fetch, {
    port: config.BOT_PORT,
    logger,
    listeningMessage: "bot listening",
    listeningFields: { analytics_api: config.ANALYTICS_API_URL },
  });
  logger.info("bot stopped");
  return 0;
}

// ---------------------------------------------------------------------------------
// ask: one question from the command line
// ---------------------------------------------------------------------------------

const ASK_USAGE = 'usage: main.ts ask [--json] [--tenant NAME] "your question"';

/**
 * Answers one question and prints the reply (`--json`: the whole `{reply, query, data}`).
 * With ANALYTICS_API_URL set it asks that API with ANALYTICS_API_TOKEN (or the first
 * API_KEY); otherwise it opens the local database like `serve` (backfilling fake data on
 * first use when DATA_SOURCE=fake) and answers as `--tenant` (default INGEST_TENANT).
 */
export async function ask(env: Env, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, tenant: { type: "string" } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${ASK_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const prompt = positionals.join(" ").trim();
  if (!prompt) {
    console.error(ASK_USAGE);
    return 2;
  }
  const config = loadBotConfig(env);
  const print = (answer: Answer) =>
    console.log(values.json ? JSON.stringify(answer, null, 2) : answer.reply);

  if (env.ANALYTICS_API_URL?.trim()) {
    const token = env.ANALYTICS_API_TOKEN?.trim() || loadAppConfig(env).API_KEY[0]?.key;
    if (!token) {
      console.error("ask: set ANALYTICS_API_TOKEN (or API_KEY) to call ANALYTICS_API_URL");
      return 2;
    }
    const client = createHttpAnalyticsClient({
      baseUrl: config.ANALYTICS_API_URL,
      token,
      timeoutMs: config.ANALYTICS_API_TIMEOUT_MS,
    });
    const answer = await answerPrompt(prompt, { client, timeZone: config.BOT_TIME_ZONE });
    print(answer);
    return answer.data.kind === "error" ? 1 : 0;
  }

  // In-process: quiet logs (stdout is the answer), the local database, the internal path.
  const logger = createLogger({ level: env.LOG_LEVEL?.trim() ? config.LOG_LEVEL : "warn" });
  const services = await buildServices(env, { logger });
  try {
    await services.streamer?.backfillIfEmpty();
    const tenant = values.tenant?.trim() || env.INGEST_TENANT?.trim() || "default";
    const client = internalAnalytics(services.deps).clientFor(tenant);
    const answer = await answerPrompt(prompt, {
      client,
      now: services.deps.clock(),
      timeZone: services.deps.defaultTimeZone,
    });
    print(answer);
    return answer.data.kind === "error" ? 1 : 0;
  } finally {
    await services.close();
  }
}
