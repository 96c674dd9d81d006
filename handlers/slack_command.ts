/**
 * `POST /slack/command`: Slack slash commands. Slack signs each request with the app's
 * signing secret instead of sending a bearer token, so this route must be public on
 * the API app (handlers/app_factory.ts must list it in PUBLIC_PATHS) and checks the
 * signature itself before anything else. A workspace (`team_id`) maps to one tenant
 * through configuration; the question is then answered as that tenant, through a
 * client the caller provides (in-process: the internal principal path of prompt.ts;
 * standalone: an API key of that tenant).
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AnalyticsClient, CatalogIndexCache } from "../lib/bot/client.ts";
import { answerPrompt } from "../lib/bot/answer.ts";
import {
  type ConversationStore,
  inConversation,
  memoryConversationStore,
} from "../lib/bot/conversation.ts";
import { EXAMPLE_QUESTIONS } from "../lib/bot/format.ts";
import {
  isSlackResponseUrl,
  parseSlashCommand,
  slackConversationId,
  type SlackMessage,
  slackReply,
  verifySlackRequest,
} from "../lib/bot/slack.ts";
import type { Logger } from "../lib/log.ts";
import type { AppExtension } from "./app_factory.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import type { Operation } from "./openapi.ts";
import { internalAnalytics, MAX_PROMPT_CHARACTERS } from "./prompt.ts";

export interface SlackCommandDeps {
  signingSecret: string | undefined;
  /** Slack team id → tenant. */
  teamTenants: ReadonlyMap<string, string>;
  /** A client acting as the tenant; undefined when this deployment has no credential for it. */
  clientFor(tenant: string): AnalyticsClient | undefined;
  clock: () => Date;
  timeZone?: string;
  logger: Logger;
  /**
   * Slack waits 3 s for an answer. Past this many milliseconds the command is
   * acknowledged and the answer posted to `response_url` when it is ready. Default 2500.
   */
  ackAfterMs?: number;
  /** Posts a delayed answer (default: fetch POST of the JSON). */
  postResponse?: (url: string, message: SlackMessage) => Promise<void>;
  /** Where each thread's last question is kept, for follow-ups (memory when absent). */
  conversations?: ConversationStore;
}

const SIGNATURE_ERRORS = {
  not_configured: "Slack is not configured (SLACK_SIGNING_SECRET)",
  missing_headers: "missing X-Slack-Signature or X-Slack-Request-Timestamp",
  bad_timestamp: "X-Slack-Request-Timestamp is not a Unix time",
  stale: "request timestamp is more than five minutes away from now",
  bad_signature: "signature does not match",
} as const;

export const UNMAPPED_TEAM_REPLY = "Sorry, this Slack workspace isn't connected to a campaign " +
  "analytics account yet, so I can't answer. Ask your admin to connect it.";

function usage(command: string): string {
  const name = command || "/analytics";
  return `Ask me about your ad performance, for example:\n${
    EXAMPLE_QUESTIONS.map((question) => `• ${name} ${question}`).join("\n")
  }`;
}

async function defaultPost(url: string, message: SlackMessage): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...message, replace_original: true }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
}

/** The route's handler, shared by the API app and the standalone bot. */
export function slackCommandHandler(deps: SlackCommandDeps) {
  const conversations = deps.conversations ?? memoryConversationStore();
  return async (c: Context): Promise<Response> => {
    const raw = await c.req.text();
    const verification = await verifySlackRequest({
      secret: deps.signingSecret,
      timestamp: c.req.header("X-Slack-Request-Timestamp"),
      signature: c.req.header("X-Slack-Signature"),
      body: raw,
      now: deps.clock(),
    });
    if (!verification.ok) {
      deps.logger.warn("slack request refused", { reason: verification.reason });
      const status = verification.reason === "not_configured" ? 503 : 401;
      return c.json({ error: SIGNATURE_ERRORS[verification.reason] }, status);
    }
    const command = parseSlashCommand(raw);
    if (command.ssl_check) return c.body(null, 200);
    const tenant = deps.teamTenants.get(command.team_id);
    if (!tenant) {
      deps.logger.info("slack command from an unmapped workspace", { team: command.team_id });
      return c.json(slackReply(UNMAPPED_TEAM_REPLY));
    }
    const text = command.text.trim();
    if (!text || /^(help|\?)$/i.test(text)) return c.json(slackReply(usage(command.command)));
    if ([...text].length > MAX_PROMPT_CHARACTERS) {
      return c.json(
        slackReply(
          `That question is too long; please keep it under ${MAX_PROMPT_CHARACTERS} ` +
            `characters.`,
        ),
      );
    }
    const client = deps.clientFor(tenant);
    if (!client) {
      deps.logger.warn("slack workspace mapped to a tenant without a credential", { tenant });
      return c.json(
        slackReply("Sorry, I'm not set up to read analytics for this workspace yet."),
      );
    }
    const answering = inConversation(
      conversations,
      tenant,
      slackConversationId(command),
      (previous) =>
        answerPrompt(text, { client, now: deps.clock(), timeZone: deps.timeZone, previous }),
    ).then((answer) => {
      deps.logger.info("slack command answered", {
        team: command.team_id,
        tenant,
        kind: answer.data.kind,
      });
      return slackReply(answer.reply);
    }).catch((error) => {
      deps.logger.error("slack command failed", { tenant, error });
      return slackReply("Sorry, something went wrong while answering. Please try again.");
    });
    const ackAfterMs = deps.ackAfterMs ?? 2500;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), ackAfterMs);
    });
    const first = await Promise.race([answering, late]);
    clearTimeout(timer);
    if (first !== "late") return c.json(first);
    if (!isSlackResponseUrl(command.response_url)) return c.json(await answering);
    const post = deps.postResponse ?? defaultPost;
    answering
      .then((message) => post(command.response_url, message))
      .catch((error) => deps.logger.warn("could not post the slack answer", { error }));
    return c.json(slackReply("Looking that up…"));
  };
}

export const SLACK_OPERATION: Operation = {
  method: "post",
  path: "/slack/command",
  summary: "Slack slash command (signed with the Slack signing secret, not a bearer token)",
  tags: ["bot"],
  body: [{
    contentType: "application/x-www-form-urlencoded",
    schema: z.object({
      text: z.string(),
      team_id: z.string(),
      user_id: z.string(),
      command: z.string(),
      response_url: z.string(),
    }),
    description: "Slack's form; X-Slack-Signature and X-Slack-Request-Timestamp are required",
  }],
  response: z.object({
    response_type: z.enum(["ephemeral", "in_channel"]),
    text: z.string(),
    blocks: z.array(z.unknown()).optional(),
  }),
  statuses: [401, 503],
};

export interface SlackExtensionOptions {
  signingSecret: string;
  teamTenants: ReadonlyMap<string, string>;
  catalogCache?: CatalogIndexCache;
  ackAfterMs?: number;
  postResponse?: (url: string, message: SlackMessage) => Promise<void>;
  conversations?: ConversationStore;
}

/**
 * `/slack/command` on the API app, answering as the mapped tenant through the internal
 * principal path (prompt.ts). The route is public: app.ts must list it in PUBLIC_PATHS.
 */
export function slackExtension(options: SlackExtensionOptions): AppExtension {
  return {
    register(app: Hono<AppEnv>, deps: AppDeps) {
      const internal = internalAnalytics(deps, { catalogCache: options.catalogCache });
      app.post(
        "/slack/command",
        slackCommandHandler({
          signingSecret: options.signingSecret,
          teamTenants: options.teamTenants,
          clientFor: (tenant) => internal.clientFor(tenant),
          clock: deps.clock,
          timeZone: deps.defaultTimeZone,
          logger: deps.logger,
          ackAfterMs: options.ackAfterMs,
          postResponse: options.postResponse,
          conversations: options.conversations,
        }),
      );
    },
    operations: [SLACK_OPERATION],
  };
}
