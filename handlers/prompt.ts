/**
 * `POST /prompt`: a question in words, `{reply, query, data}` out. Mounted on the API
 * app (in-process: the bot calls the very same app with the caller's token, so auth,
 * tenancy and caching are the API's own) and reused by the standalone bot
 * (runtime/bot.ts), which forwards the caller's token to the API over HTTP.
 *
 * Also here: the internal principal path for callers that have no user token (Slack
 * commands, the `ask` CLI). It is a second app instance over the same store and cache
 * whose authenticator accepts only random tokens minted in this process, one per tenant,
 * read-only. That app is never bound to a socket, so those tokens cannot be used from
 * outside, and each one is bound to exactly one tenant.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import {
  type AnalyticsClient,
  CatalogIndexCache,
  createInProcessAnalyticsClient,
} from "../lib/bot/client.ts";
import { type Answer, answerPrompt } from "../lib/bot/answer.ts";
import {
  ConversationIdSchema,
  type ConversationStore,
  inConversation,
  memoryConversationStore,
  newConversationId,
} from "../lib/bot/conversation.ts";
import { type ParsedQuery, ParsedQuerySchema } from "../lib/bot/query.ts";
import { calendarDateIn } from "../lib/dates.ts";
import { toHex } from "../lib/encoding.ts";
import { type AppExtension, createApp } from "./app_factory.ts";
import {
  type Authenticator,
  AuthError,
  parseBearerToken,
  type Principal,
  requireScope,
} from "./auth.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import type { Operation } from "./openapi.ts";
import { BadRequest } from "./params.ts";
import { sessionToken } from "./session.ts";

export const MAX_PROMPT_CHARACTERS = 1000;

const PROMPT_REQUIRED = 'prompt is required: send {"prompt": "your question"}';

export const PromptRequestSchema = z.object({
  prompt: z.string({
    error: (issue) => issue.input === undefined ? PROMPT_REQUIRED : "prompt must be a string",
  })
    .refine((text) => text.trim().length > 0, "prompt must not be empty")
    // Characters, not UTF-16 units: an emoji counts once.
    .refine(
      (text) => [...text].length <= MAX_PROMPT_CHARACTERS,
      `prompt is longer than ${MAX_PROMPT_CHARACTERS} characters`,
    )
    .transform((text) => text.trim())
    .meta({ minLength: 1, maxLength: MAX_PROMPT_CHARACTERS })
    .describe("The question, in words (at most 1000 characters)"),
  conversation_id: ConversationIdSchema.optional(),
});
export type PromptRequest = z.infer<typeof PromptRequestSchema>;

export const PromptResponseSchema = z.object({
  reply: z.string().describe("The answer in words; every number in it comes from `data`"),
  query: ParsedQuerySchema.describe("What the bot understood (see the bot contract)"),
  data: z.record(z.string(), z.unknown()).describe(
    "The API answers the reply is built from (`kind` says which), plus `requests` made",
  ),
  view_url: z.string().nullable().describe(
    "The dashboard selection showing the same numbers (null when the answer has none)",
  ),
  conversation_id: ConversationIdSchema.describe(
    "Send it back with the next prompt to ask a follow-up ('and for Meta?'); kept 30 minutes",
  ),
});

/**
 * Reads `{"prompt": "...", "conversation_id"?: "..."}` through PromptRequestSchema;
 * anything else is a 400 naming the field: a body that is not JSON, no prompt, a
 * non-string, a blank one or one over 1000 characters, a malformed conversation id.
 */
export async function readPrompt(c: Context): Promise<PromptRequest> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new BadRequest("prompt", 'body is not valid JSON: send {"prompt": "your question"}');
  }
  const parsed = PromptRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path[0] === "conversation_id" ? "conversation_id" : "prompt";
  // An issue about the body itself (an array, a string, null) means the prompt is missing.
  throw new BadRequest(field, issue.path.length ? issue.message : PROMPT_REQUIRED);
}

/** The bearer token of a request (the auth middleware has already checked its form). */
export function bearerToken(c: Context): string | undefined {
  return parseBearerToken(c.req.header("Authorization"));
}

export const PROMPT_OPERATION: Operation = {
  method: "post",
  path: "/prompt",
  summary: "Ask a question in words; the reply states its period and platforms, and its " +
    "numbers come from the API answers returned in `data`",
  tags: ["bot"],
  body: [{ contentType: "application/json", schema: PromptRequestSchema }],
  response: PromptResponseSchema,
  scope: "insights:read",
  statuses: [400, 413],
};

/** Case and spacing do not change a question. */
function normalizePrompt(prompt: string): string {
  return prompt.toLowerCase().replace(/\s+/g, " ").trim();
}

class UncachedAnswer extends Error {
  constructor(readonly answer: Answer) {
    super("answer not cached");
  }
}

export interface PromptExtensionOptions {
  /** Shared catalog index cache (one is made when absent). */
  catalogCache?: CatalogIndexCache;
  /** Where conversations are kept (this process's memory when absent). */
  conversations?: ConversationStore;
}

/** `POST /prompt` on the API app: the bot asks the same app, with the caller's token. */
export function promptExtension(options: PromptExtensionOptions = {}): AppExtension {
  const catalogCache = options.catalogCache ?? new CatalogIndexCache();
  const conversations = options.conversations ?? memoryConversationStore();
  return {
    register(app: Hono<AppEnv>, deps: AppDeps) {
      app.post("/prompt", requireScope<AppEnv>("insights:read"), async (c) => {
        const request = await readPrompt(c);
        const tenant = c.get("principal").tenant;
        const conversationId = request.conversation_id ?? newConversationId();
        const client = createInProcessAnalyticsClient({
          request: (request) => Promise.resolve(app.request(request)),
          // A dashboard caller has a session cookie, not a token: the bot reads with it.
          token: bearerToken(c) ?? sessionToken(c) ?? "",
          tenant,
          catalogCache,
        });
        const now = deps.clock();
        const answer = await inConversation(
          conversations,
          tenant,
          conversationId,
          (previous) => cachedAnswer(deps, tenant, request.prompt, previous, now, client),
        );
        return c.json({ ...answer, conversation_id: conversationId });
      });
    },
    operations: [PROMPT_OPERATION],
  };
}

/**
 * The same question on the same day, after the same previous question, over the same
 * data has the same answer: it is cached like any API answer (per tenant and data
 * version, so never stale). Answers about an unavailable API are not cached.
 */
async function cachedAnswer(
  deps: AppDeps,
  tenant: string,
  prompt: string,
  previous: ParsedQuery | null,
  now: Date,
  client: AnalyticsClient,
): Promise<Answer> {
  const key = `prompt|${calendarDateIn(now, deps.defaultTimeZone)}|${
    previous ? JSON.stringify(previous) : ""
  }|${normalizePrompt(prompt)}`;
  try {
    const body = await deps.cache.readJson(tenant, key, async () => {
      const answer = await answerPrompt(prompt, {
        client,
        now,
        timeZone: deps.defaultTimeZone,
        previous,
      });
      if (answer.data.kind === "error") throw new UncachedAnswer(answer);
      return answer;
    });
    return JSON.parse(body) as Answer;
  } catch (error) {
    if (error instanceof UncachedAnswer) return error.answer;
    throw error;
  }
}

/** Clients that act as a tenant without a user token (see the module comment). */
export interface InternalAnalytics {
  clientFor(tenant: string): AnalyticsClient;
}

export function internalAnalytics(
  deps: AppDeps,
  options: { catalogCache?: CatalogIndexCache } = {},
): InternalAnalytics {
  const catalogCache = options.catalogCache ?? new CatalogIndexCache();
  const tokens = new Map<string, string>();
  const principals = new Map<string, Principal>();
  const authenticator: Authenticator = {
    configured: true,
    authenticate(token: string): Promise<Principal> {
      const principal = principals.get(token);
      return principal
        ? Promise.resolve(principal)
        : Promise.reject(new AuthError("invalid token"));
    },
  };
  const internal = createApp({ ...deps, authenticator, corsOrigins: [] });
  return {
    clientFor(tenant: string): AnalyticsClient {
      let token = tokens.get(tenant);
      if (!token) {
        const bytes = crypto.getRandomValues(new Uint8Array(32));
        token = "internal_" + toHex(bytes);
        tokens.set(tenant, token);
        principals.set(token, { tenant, scopes: new Set(["insights:read"]), kind: "api_key" });
      }
      return createInProcessAnalyticsClient({
        request: (request) => Promise.resolve(internal.request(request)),
        token,
        tenant,
        catalogCache,
      });
    },
  };
}
