/**
 * Live updates for the dashboard: the tenant's data version (the token the cache layer
 * replaces after every committed write) pushed as Server-Sent Events on `GET /events`,
 * and the same version for pollers on `GET /data-version` (ETag, 304 when unchanged).
 *
 * One watcher per process polls the version of each tenant that has a listener, so a
 * hundred open pages of one tenant cost one version read per interval, and a write made
 * by this process is announced at once, without waiting for the next poll.
 */
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { requireScope } from "./auth.ts";
import type { AppEnv } from "./context.ts";

/** How often the shared version is read while someone listens (writes elsewhere). */
export const VERSION_POLL_MS = 500;
/** A comment line this often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 25_000;
/**
 * A stream ends after this long and the browser reconnects (EventSource does so by
 * itself): a graceful shutdown never waits on a stream for longer.
 */
export const STREAM_LIFETIME_MS = 120_000;

type Listener = (version: string) => void;

export interface LiveVersionsOptions {
  /**
   * Reads the tenant's version shared by every process (the cache's version key). Without
   * it, only writes made by this process are seen.
   */
  read?: (tenant: string) => Promise<string>;
  pollMs?: number;
}

export class LiveVersions {
  readonly #read?: (tenant: string) => Promise<string>;
  readonly #pollMs: number;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #last = new Map<string, string>();
  /** Writes seen by this process, per tenant (the version when nothing is shared). */
  readonly #localWrites = new Map<string, number>();
  readonly #processId = crypto.randomUUID().slice(0, 8);
  #timer?: ReturnType<typeof setInterval>;
  #polling = false;

  constructor(options: LiveVersionsOptions = {}) {
    this.#read = options.read;
    this.#pollMs = options.pollMs ?? VERSION_POLL_MS;
  }

  /** The tenant's current version. */
  async current(tenant: string): Promise<string> {
    if (this.#read) return await this.#read(tenant);
    return `${this.#processId}.${this.#localWrites.get(tenant) ?? 0}`;
  }

  /** Call after a write of `tenant` committed (and its cache version was bumped). */
  notify(tenant: string): void {
    this.#localWrites.set(tenant, (this.#localWrites.get(tenant) ?? 0) + 1);
    if (this.#listeners.has(tenant)) void this.#check(tenant);
  }

  /** Calls `listener` with each new version of `tenant` until the returned function runs. */
  subscribe(tenant: string, listener: Listener, known?: string): () => void {
    let set = this.#listeners.get(tenant);
    if (!set) {
      set = new Set();
      this.#listeners.set(tenant, set);
      if (known !== undefined) this.#last.set(tenant, known);
    }
    set.add(listener);
    if (this.#read && !this.#timer) {
      this.#timer = setInterval(() => void this.#pollAll(), this.#pollMs);
    }
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.#listeners.delete(tenant);
        this.#last.delete(tenant);
      }
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Tenants with a listener right now (metrics, tests). */
  get watchedTenants(): number {
    return this.#listeners.size;
  }

  async #pollAll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      await Promise.all([...this.#listeners.keys()].map((tenant) => this.#check(tenant)));
    } finally {
      this.#polling = false;
    }
  }

  async #check(tenant: string): Promise<void> {
    let version: string;
    try {
      version = await this.current(tenant);
    } catch {
      return; // The cache is down: nothing to announce; the next poll tries again.
    }
    if (this.#last.get(tenant) === version) return;
    this.#last.set(tenant, version);
    for (const listener of this.#listeners.get(tenant) ?? []) listener(version);
  }
}

function versionEtag(version: string): string {
  return `"${version.replace(/[^\w.:-]/g, "")}"`;
}

/** `GET /events` (SSE) and `GET /data-version` (ETag polling). */
export function registerLiveRoutes(app: Hono<AppEnv>, versions: LiveVersions): void {
  app.get("/data-version", requireScope<AppEnv>("insights:read"), async (c: Context<AppEnv>) => {
    let version: string;
    try {
      version = await versions.current(c.get("principal").tenant);
    } catch {
      c.header("Retry-After", "5");
      return c.json({ error: "data version unavailable (cache unreachable), retry later" }, 503);
    }
    const etag = versionEtag(version);
    c.header("ETag", etag);
    c.header("Cache-Control", "no-cache");
    if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
    return c.json({ version });
  });

  app.get("/events", requireScope<AppEnv>("insights:read"), (c) => {
    const tenant = c.get("principal").tenant;
    c.header("Cache-Control", "no-store");
    // Proxies (nginx) must pass each event on at once rather than buffer the stream.
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      let closed = false;
      let wake: () => void = () => {};
      const ended = new Promise<void>((resolve) => (wake = resolve));
      const close = () => {
        closed = true;
        wake();
      };
      stream.onAbort(close);
      const send = async (version: string) => {
        if (closed) return;
        try {
          await stream.writeSSE({
            event: "version",
            data: JSON.stringify({ version, at: new Date().toISOString() }),
            retry: 1000,
          });
        } catch {
          close();
        }
      };
      // The cache may be unreachable: the stream still opens, and the watcher announces
      // the version once it can read one (the page then refreshes once).
      const first = await versions.current(tenant).catch(() => "unavailable");
      await send(first);
      const unsubscribe = versions.subscribe(tenant, (version) => void send(version), first);
      const heartbeat = setInterval(() => {
        stream.write(": keep-alive\n\n").catch(close);
      }, HEARTBEAT_MS);
      const lifetime = setTimeout(close, STREAM_LIFETIME_MS);
      try {
        await ended;
      } finally {
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(lifetime);
      }
    });
  });
}
