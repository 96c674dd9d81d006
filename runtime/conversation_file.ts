/**
 * Conversations for `main.ts ask --conversation ID` when no shared cache holds them: a
 * small JSON file, so that one command-line question can follow up on the one before.
 * Entries expire like the cache's (30 minutes after the last question).
 */
import { CONVERSATION_TTL_SECONDS, type ConversationStore } from "../lib/bot/conversation.ts";
import { type ParsedQuery, ParsedQuerySchema } from "../lib/bot/query.ts";

interface Entry {
  readonly expires: number;
  readonly query: unknown;
}

/** The default file: the user's cache directory, else the system's temporary one. */
export function defaultConversationFile(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : Deno.env.get("TMPDIR") ?? "/tmp");
  return `${base}/campaign-analytics/conversations.json`;
}

export class FileConversationStore implements ConversationStore {
  constructor(
    readonly path: string = defaultConversationFile(),
    readonly clock: () => Date = () => new Date(),
  ) {}

  async previous(tenant: string, conversationId: string): Promise<ParsedQuery | null> {
    const entry = (await this.#read())[`${tenant}\u0000${conversationId}`];
    if (!entry || entry.expires <= this.clock().getTime()) return null;
    const parsed = ParsedQuerySchema.safeParse(entry.query);
    return parsed.success ? parsed.data : null;
  }

  async remember(tenant: string, conversationId: string, query: ParsedQuery): Promise<void> {
    const now = this.clock().getTime();
    const live = Object.fromEntries(
      Object.entries(await this.#read()).filter(([, entry]) => entry.expires > now),
    );
    live[`${tenant}\u0000${conversationId}`] = {
      expires: now + CONVERSATION_TTL_SECONDS * 1000,
      query,
    };
    try {
      await Deno.mkdir(this.path.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(this.path, JSON.stringify(live), { mode: 0o600 });
    } catch {
      // A read-only home only costs the next question its context.
    }
  }

  async #read(): Promise<Record<string, Entry>> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.path));
      return data !== null && typeof data === "object" && !Array.isArray(data) ? data : {};
    } catch {
      return {};
    }
  }
}
