/**
 * The bot's entry points:
 *
 * - `botExtensions(config)`: `/prompt` (and `/slack/command` when SLACK_SIGNING_SECRET is set)
 *   mounted in-process on the API app by `main.ts serve`.
 * - `createBotApp(settings)` / `runBot(settings)`: the bot alone (`main.ts bot`, `deno task bot`)
 *   on BOT_PORT, without a database: it forwards each caller's bearer token to the API at
 *   ANALYTICS_API_URL, which authenticates it (as the seed's separate bot service did).
 * - `ask(settings, args)`: one question from the command line (`deno task ask "..."`).
 */
import type { Hono } from "hono";
import { parseArgs } from "node:util";
import { createLogger, type Logger } from "../lib/log.ts";
import { Registry } from "../lib/telemetry.ts";
import {
  type AnalyticsClient,
  CatalogIndexCache,
  createHttpAnalyticsClient,
  type FetchLike,
} from "../lib/bot/client.ts";
import { type Answer, answerPrompt } from "../lib/bot/answer.ts";
import {
  CacheConversationStore,
  ConversationIdSchema,
  type ConversationStore,
  inConversation,
  memoryConversationStore,
  newConversationId,
} from "../lib/bot/conversation.ts";
import { toHex } from "../lib/encoding.ts";
import type { ParsedQuery } from "../lib/bot/query.ts";
import { FileConversationStore } from "./conversation_file.ts";
import { catalogIndexFactory, type VectorStoreMode } from "../lib/bot/pg_vector.ts";
import { type AppExtension, createHttpApp } from "../handlers/app_factory.ts";
import type { AppEnv } from "../handlers/context.ts";
import { unauthorized } from "../handlers/auth.ts";
import { bearerToken, internalAnalytics, promptExtension, readPrompt } from "../handlers/prompt.ts";
import { slackCommandHandler, slackExtension } from "../handlers/slack_command.ts";
import { buildServices, type Services } from "./services.ts";
import { serveUntilSignal } from "./http_server.ts";
import type { BotConfig, BotSettings, ServeSettings } from "./settings.ts";

// ---------------------------------------------------------------------------------
// In-process: mounted on the API app by `serve`
// ---------------------------------------------------------------------------------

/** The bot's routes for `buildServices(settings, { extensions: botExtensions(settings.bot) })`. */
export function botExtensions(
  config: BotConfig,
): (services: Pick<Services, "db" | "logger" | "reader">) => AppExtension[] {
  return (services) => {
    const catalogCache = new CatalogIndexCache({
      factory: catalogIndexFactory(services.db.driver, config.BOT_VECTOR_STORE as VectorStoreMode, {
        logger: services.logger,
      }),
    });
    // Conversations live in the app's own cache: shared by every instance on Redis.
    const conversations = new CacheConversationStore(services.reader.cache);
    const extensions = [promptExtension({ catalogCache, conversations })];
    if (config.SLACK_SIGNING_SECRET) {
      extensions.push(slackExtension({
        signingSecret: config.SLACK_SIGNING_SECRET,
        teamTenants: config.SLACK_TEAM_TENANTS,
        catalogCache,
        conversations,
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
  /** Where conversations are kept (this process's memory when absent). */
  conversations?: ConversationStore;
}

/** A caller's stand-in tenant for conversation keys: a hash, never the token itself. */
async function callerKey(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return "token-" + toHex(new Uint8Array(digest)).slice(0, 32);
}

export function createBotApp(settings: BotSettings, options: BotAppOptions = {}): Hono<AppEnv> {
  const { bot: config } = settings;
  const logger = options.logger ?? createLogger({ level: settings.app.LOG_LEVEL });
  const clock = options.clock ?? (() => new Date());
  const catalogCache = new CatalogIndexCache();
  const conversations = options.conversations ?? memoryConversationStore();
  const clientFor = (token: string): AnalyticsClient =>
    createHttpAnalyticsClient({
      baseUrl: config.ANALYTICS_API_URL,
      token,
      fetch: options.fetch,
      timeoutMs: config.ANALYTICS_API_TIMEOUT_MS,
      catalogCache,
    });

  const app = createHttpApp({
    logger,
    telemetry: new Registry(),
    maxBodyBytes: settings.app.MAX_BODY_BYTES,
  });
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
    const request = await readPrompt(c);
    const client = clientFor(token);
    const conversationId = request.conversation_id ?? newConversationId();
    // The bot does not know the caller's tenant: the token stands for it, hashed.
    const caller = await callerKey(token);
    const answer: Answer = await inConversation(
      conversations,
      caller,
      conversationId,
      (previous) =>
        answerPrompt(request.prompt, {
          client,
          now: clock(),
          timeZone: config.BOT_TIME_ZONE,
          previous,
        }),
    );
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
    return c.json({ ...answer, conversation_id: conversationId });
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

  return app;
}

/** `main.ts bot`: serves the bot on BOT_PORT until SIGINT/SIGTERM. */
export async function runBot(settings: BotSettings): Promise<number> {
  const { bot: config } = settings;
  const logger = createLogger({ level: settings.app.LOG_LEVEL });
  const app = createBotApp(settings, { logger });
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

const ASK_USAGE = 'usage: main.ts ask [--json] [--tenant NAME] [--conversation ID] "your question"';

/**
 * Answers one question and prints the reply (`--json`: the whole `{reply, query, data}`).
 * With ANALYTICS_API_URL set it asks that API with ANALYTICS_API_TOKEN (or the first
 * API_KEY); otherwise it opens the local database like `serve` (backfilling fake data on
 * first use when DATA_SOURCE=fake) and answers as `--tenant` (default INGEST_TENANT).
 * `--conversation ID` makes the question a possible follow-up of the last one asked with
 * the same id (kept in Redis when configured, else in a file under ~/.cache).
 */
export async function ask(settings: ServeSettings, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        tenant: { type: "string" },
        conversation: { type: "string" },
      },
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
  const conversationId = values.conversation?.trim();
  if (conversationId !== undefined && !ConversationIdSchema.safeParse(conversationId).success) {
    console.error(`ask: --conversation must be 8 to 128 letters, digits, '.', '_', ':' or '-'`);
    return 2;
  }
  const { bot: config, given } = settings;
  const print = (answer: Answer) =>
    console.log(values.json ? JSON.stringify(answer, null, 2) : answer.reply);
  /** Answers in the conversation when one was named, else on its own. */
  const answerIn = (
    store: ConversationStore,
    tenant: string,
    answer: (previous: ParsedQuery | null) => Promise<Answer>,
  ) => conversationId ? inConversation(store, tenant, conversationId, answer) : answer(null);

  if (given.has("ANALYTICS_API_URL")) {
    const token = config.ANALYTICS_API_TOKEN || settings.app.API_KEY[0]?.key;
    if (!token) {
      console.error("ask: set ANALYTICS_API_TOKEN (or API_KEY) to call ANALYTICS_API_URL");
      return 2;
    }
    const client = createHttpAnalyticsClient({
      baseUrl: config.ANALYTICS_API_URL,
      token,
      timeoutMs: config.ANALYTICS_API_TIMEOUT_MS,
    });
    const answer = await answerIn(
      new FileConversationStore(),
      await callerKey(token),
      (previous) => answerPrompt(prompt, { client, timeZone: config.BOT_TIME_ZONE, previous }),
    );
    print(answer);
    return answer.data.kind === "error" ? 1 : 0;
  }

  // In-process: quiet logs (stdout is the answer), the local database, the internal path.
  const logger = createLogger({ level: given.has("LOG_LEVEL") ? settings.app.LOG_LEVEL : "warn" });
  const services = await buildServices(settings, { logger });
  try {
    await services.streamer?.backfillIfEmpty();
    const tenant = values.tenant?.trim() || settings.ingest.INGEST_TENANT;
    const client = internalAnalytics(services.deps).clientFor(tenant);
    // A memory cache dies with this process: the file keeps the conversation instead.
    const store = services.reader.cache.backend === "memory"
      ? new FileConversationStore()
      : new CacheConversationStore(services.reader.cache);
    const answer = await answerIn(store, tenant, (previous) =>
      answerPrompt(prompt, {
        client,
        now: services.deps.clock(),
        timeZone: services.deps.defaultTimeZone,
        previous,
      }));
    print(answer);
    return answer.data.kind === "error" ? 1 : 0;
  } finally {
    await services.close();
  }
}
