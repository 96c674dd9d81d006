/**
 * Slack slash commands, the pure parts: request signature verification (Slack's v0
 * scheme), the form body, the workspace → tenant map, and the response JSON.
 *
 * Verification (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body)>`
 * with `X-Slack-Request-Timestamp` in Unix seconds. Requests more than five minutes away
 * from now are refused (replays), and the signature is compared in constant time.
 *
 * Web-standard only (crypto.subtle, URLSearchParams).
 */

/** Requests older (or newer) than this are refused. */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export type SlackVerification =
  | { ok: true }
  | {
    ok: false;
    reason: "not_configured" | "missing_headers" | "bad_timestamp" | "stale" | "bad_signature";
  };

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings without an early exit, so timing does not reveal a prefix. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let difference = left.length ^ right.length;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/** The `X-Slack-Signature` value Slack would send for this body and timestamp. */
export async function signSlackRequest(
  secret: string,
  timestamp: string | number,
  body: string,
): Promise<string> {
  return `v0=${await hmacHex(secret, `v0:${timestamp}:${body}`)}`;
}

/** Checks a request's signature over its raw body. */
export async function verifySlackRequest(input: {
  secret: string | undefined;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  body: string;
  now: Date;
  maxAgeSeconds?: number;
}): Promise<SlackVerification> {
  if (!input.secret) return { ok: false, reason: "not_configured" };
  if (!input.timestamp || !input.signature) return { ok: false, reason: "missing_headers" };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: "bad_timestamp" };
  const age = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(input.timestamp));
  if (age > (input.maxAgeSeconds ?? SLACK_MAX_AGE_SECONDS)) return { ok: false, reason: "stale" };
  const expected = await signSlackRequest(input.secret, input.timestamp, input.body);
  return constantTimeEqual(expected, input.signature.trim())
    ? { ok: true }
    : { ok: false, reason: "bad_signature" };
}

/** The fields of a slash command the bot uses (Slack sends more). */
export interface SlashCommand {
  command: string;
  text: string;
  team_id: string;
  team_domain: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  /** The thread the command was sent in, when Slack says (empty otherwise). */
  thread_ts: string;
  response_url: string;
  /** Slack's certificate check: answer 200 and nothing else. */
  ssl_check: boolean;
}

/** Parses the form-encoded body of a slash command. */
export function parseSlashCommand(body: string): SlashCommand {
  const form = new URLSearchParams(body);
  const field = (name: string) => form.get(name) ?? "";
  return {
    command: field("command"),
    text: field("text"),
    team_id: field("team_id"),
    team_domain: field("team_domain"),
    user_id: field("user_id"),
    user_name: field("user_name"),
    channel_id: field("channel_id"),
    thread_ts: field("thread_ts"),
    response_url: field("response_url"),
    ssl_check: field("ssl_check") === "1",
  };
}

/**
 * The conversation a command belongs to: its thread, or (outside a thread) the user in
 * that channel, so "and for Meta?" follows the question asked just before it there.
 */
export function slackConversationId(command: SlashCommand): string {
  const part = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, "") || "-";
  const where = command.thread_ts ? `t${part(command.thread_ts)}` : `u${part(command.user_id)}`;
  return `slack:${part(command.team_id)}:${part(command.channel_id)}:${where}`.slice(0, 128);
}

/**
 * `SLACK_TEAM_TENANTS=T123:acme,T456:globex` → Map { T123 → acme, T456 → globex }.
 * Throws a RangeError naming the bad item.
 */
export function parseTeamTenants(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of (text ?? "").split(",").map((part) => part.trim()).filter(Boolean)) {
    const separator = item.indexOf(":");
    const team = item.slice(0, separator).trim();
    const tenant = item.slice(separator + 1).trim();
    if (separator <= 0 || !team || !tenant || !/^[A-Za-z0-9_.-]+$/.test(team)) {
      throw new RangeError(`SLACK_TEAM_TENANTS: expected TEAM_ID:tenant items, got "${item}"`);
    }
    map.set(team, tenant);
  }
  return map;
}

export interface SlackMessage {
  response_type: "ephemeral" | "in_channel";
  text: string;
  blocks?: unknown[];
}

/** Slack treats &, < and > as control characters in message text. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Section blocks hold at most 3,000 characters. */
const MAX_SECTION_TEXT = 3000;

/** A reply only the asking user sees, as text plus one section block. */
export function slackReply(text: string, options: { inChannel?: boolean } = {}): SlackMessage {
  const escaped = escapeSlackText(text);
  const section = escaped.length > MAX_SECTION_TEXT
    ? `${escaped.slice(0, MAX_SECTION_TEXT - 1)}…`
    : escaped;
  return {
    response_type: options.inChannel ? "in_channel" : "ephemeral",
    text: escaped,
    blocks: [{ type: "section", text: { type: "mrkdwn", text: section } }],
  };
}

/** Only Slack's own webhook host may receive delayed answers (no SSRF through the form). */
export function isSlackResponseUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com";
  } catch {
    return false;
  }
}
