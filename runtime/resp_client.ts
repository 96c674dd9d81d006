/**
 * A small Redis client speaking RESP2 over one Deno socket (Deno.connect, or
 * Deno.connectTls for rediss://). Why not node-redis: under Deno's Node compatibility
 * every command went through Node streams, a command queue and timers; a profile of
 * the cached route put that at about 8% of the server's busy time, more than the
 * lookup itself (see bench/RESULTS.md, "cached reads: native RESP transport").
 *
 * What it does, and no more:
 * - Pipelining: commands are written as they come (those of one tick in one write),
 *   replies are matched to commands first in, first out, as Redis answers in order.
 * - Replies: `+` and `:` and `$` and `*` become string, number, string (UTF-8) or null,
 *   and arrays (nested, null arrays included); a `-` reply rejects that command with a
 *   `RedisReplyError` carrying the server's text (e.g. "NOSCRIPT ..."), and is an
 *   Error value where it sits inside an array (as in EXEC).
 * - Fails fast, like node-redis with `disableOfflineQueue`: a command sent while not
 *   connected rejects at once; when the connection closes, every command still
 *   waiting for a reply rejects with `RedisConnectionError`, and the client reconnects
 *   with capped exponential backoff. AUTH (user and password of the URL) and SELECT
 *   (its path, /N) run on every new connection before it takes commands.
 * - No deadline per command: the cache puts its own on every operation.
 */
import { backoffCeiling } from "../lib/retry.ts";
import { type Logger, silentLogger } from "../lib/log.ts";

/** The server answered the command with an error reply (`-ERR ...`). */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisReplyError";
  }
}

/** The command was not answered: not connected, or the connection closed first. */
export class RedisConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisConnectionError";
  }
}

/** A RESP2 reply as this client returns it. */
export type RespValue = string | number | null | RedisReplyError | RespValue[];

const CR = 13;
const LF = 10;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const NON_ASCII = /[^\p{ASCII}]/u;

/**
 * One command in RESP2: an array of bulk strings. Built as one string and encoded once
 * (each encoder call crosses into the runtime; a command of the hot path has 7 parts):
 * a bulk header needs the byte length, which for ASCII text is its string length.
 */
export function encodeCommand(args: readonly string[]): Uint8Array {
  let text = `*${args.length}\r\n`;
  for (const arg of args) {
    const bytes = NON_ASCII.test(arg) ? encoder.encode(arg).length : arg.length;
    text += `$${bytes}\r\n${arg}\r\n`;
  }
  return encoder.encode(text);
}

/** Bytes of ASCII text (at most 64 here) as a string, without a call into the runtime. */
function shortAscii(bytes: Uint8Array, from: number, to: number): string | undefined {
  let text = "";
  for (let i = from; i < to; i++) {
    const byte = bytes[i];
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * An incremental RESP2 reader: feed it bytes as they arrive, take complete replies.
 * A reply cut across reads is parsed again from its start once more bytes came
 * (replies here are small; a bulk string's length is known from its header, so a
 * large one is waited for without rescanning its body).
 */
export class RespParser {
  #buffer: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Appends bytes read from the socket. */
  feed(chunk: Uint8Array): void {
    const unread = this.#end - this.#start;
    if (unread === 0) {
      // The common case: the previous read was consumed whole; no copy needed.
      this.#buffer = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    const merged = new Uint8Array(unread + chunk.length);
    merged.set(this.#buffer.subarray(this.#start, this.#end));
    merged.set(chunk, unread);
    this.#buffer = merged;
    this.#start = 0;
    this.#end = merged.length;
  }

  /** The next complete reply, or `undefined` when more bytes are needed. */
  next(): { value: RespValue } | undefined {
    if (this.#start >= this.#end) return undefined;
    const parsed = this.#parse(this.#start);
    if (parsed === undefined) return undefined;
    this.#start = parsed.next;
    return { value: parsed.value };
  }

  /**
   * Copies the unread bytes out of the last chunk fed: call it before the caller reuses
   * that chunk's memory (the next socket read), so a partial reply survives it.
   */
  keepUnread(): void {
    if (this.#start >= this.#end) {
      this.reset();
      return;
    }
    this.#buffer = this.#buffer.slice(this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
  }

  /** Drops everything buffered (the connection that sent it is gone). */
  reset(): void {
    this.#buffer = new Uint8Array(0);
    this.#start = this.#end = 0;
  }

  #lineEnd(from: number): number {
    const buffer = this.#buffer;
    for (let i = from; i < this.#end - 1; i++) {
      if (buffer[i] === CR && buffer[i + 1] === LF) return i;
    }
    return -1;
  }

  /** The signed decimal integer between `from` and `to` (a length or an integer reply). */
  #integer(from: number, to: number): number {
    const buffer = this.#buffer;
    let negative = false;
    let i = from;
    if (buffer[i] === 45) {
      negative = true;
      i++;
    }
    let value = 0;
    for (; i < to; i++) {
      const digit = buffer[i] - 48;
      if (digit < 0 || digit > 9) {
        throw new RedisConnectionError("a malformed number in a reply: not a RESP2 server");
      }
      value = value * 10 + digit;
    }
    return negative ? -value : value;
  }

  #text(from: number, to: number): string {
    return (to - from <= 64 ? shortAscii(this.#buffer, from, to) : undefined) ??
      decoder.decode(this.#buffer.subarray(from, to));
  }

  #parse(at: number): { value: RespValue; next: number } | undefined {
    const lineEnd = this.#lineEnd(at + 1);
    if (lineEnd < 0) return undefined;
    const type = this.#buffer[at];
    const afterLine = lineEnd + 2;
    switch (type) {
      case 43: // '+'
        return { value: this.#text(at + 1, lineEnd), next: afterLine };
      case 45: // '-'
        return { value: new RedisReplyError(this.#text(at + 1, lineEnd)), next: afterLine };
      case 58: // ':'
        return { value: this.#integer(at + 1, lineEnd), next: afterLine };
      case 36: { // '$'
        const length = this.#integer(at + 1, lineEnd);
        if (length < 0) return { value: null, next: afterLine };
        if (afterLine + length + 2 > this.#end) return undefined;
        return { value: this.#text(afterLine, afterLine + length), next: afterLine + length + 2 };
      }
      case 42: { // '*'
        const count = this.#integer(at + 1, lineEnd);
        if (count < 0) return { value: null, next: afterLine };
        const items: RespValue[] = [];
        let next = afterLine;
        for (let i = 0; i < count; i++) {
          const item = this.#parse(next);
          if (item === undefined) return undefined;
          items.push(item.value);
          next = item.next;
        }
        return { value: items, next };
      }
      default:
        throw new RedisConnectionError(
          `unexpected byte ${type} at the start of a reply: not a RESP2 server`,
        );
    }
  }
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Reconnection waits: doubling from 50 ms up to 2 s, plus up to 100 ms of jitter. */
const RECONNECT_BACKOFF = { baseDelayMs: 50, maxDelayMs: 2_000 };

export interface RespClientOptions {
  /** How long one connection attempt (TCP, TLS, AUTH, SELECT) may take. */
  connectTimeoutMs?: number;
  /** Connection losses and recoveries are logged once per change of state. */
  logger?: Logger;
}

/** Where and how to connect, from a redis:// or rediss:// URL. */
export interface RedisTarget {
  tls: boolean;
  hostname: string;
  port: number;
  username?: string;
  password?: string;
  database?: number;
}

export function parseRedisUrl(url: string): RedisTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(`expected a redis:// or rediss:// URL, got ${parsed.protocol}//`);
  }
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d+$/.test(path)) {
    throw new TypeError(`the path of a Redis URL is a database number, got "/${path}"`);
  }
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return {
    tls: parsed.protocol === "rediss:",
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(path !== "" && Number(path) !== 0 ? { database: Number(path) } : {}),
  };
}

/**
 * One connection to Redis, kept open (reconnecting after losses) until `close()`.
 * `sendCommand` resolves with the raw reply (see `RespValue`).
 */
export class RespClient {
  readonly #target: RedisTarget;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;
  readonly #where: string;
  #conn: Deno.Conn | undefined;
  #ready = false;
  #closed = false;
  #retries = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #loggedDown = false;
  /** Replies are matched in order: a queue with a moving head (no O(n) shift). */
  #waiting: Waiting[] = [];
  #head = 0;
  #outgoing: Uint8Array[] = [];
  #writing = false;
  #readyListeners: (() => void)[] = [];

  constructor(url: string, options: RespClientOptions = {}) {
    this.#target = parseRedisUrl(url);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.#logger = options.logger ?? silentLogger;
    const parsed = new URL(url);
    this.#where = `${parsed.protocol}//${parsed.host}${
      parsed.pathname === "/" ? "" : parsed.pathname
    }`;
    void this.#connect();
  }

  /** True while connected (and authenticated). */
  get isReady(): boolean {
    return this.#ready;
  }

  sendCommand(args: readonly string[]): Promise<unknown> {
    if (!this.#ready) {
      return Promise.reject(
        new RedisConnectionError(
          this.#closed ? "the Redis client is closed" : "not connected to Redis",
        ),
      );
    }
    return this.#send(args);
  }

  /** True once connected, false if not within `ms` (it keeps trying). Never rejects. */
  waitUntilReady(ms: number): Promise<boolean> {
    if (this.#ready) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const listener = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#readyListeners = this.#readyListeners.filter((l) => l !== listener);
        resolve(false);
      }, ms);
      this.#readyListeners.push(listener);
    });
  }

  /** Closes at once: waiting commands reject, no reconnection. */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#dropConnection(new RedisConnectionError("the Redis client is closed"));
    for (const listener of this.#readyListeners.splice(0)) listener();
    return Promise.resolve();
  }

  #send(args: readonly string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#outgoing.push(encodeCommand(args));
      if (!this.#writing) void this.#flush();
    });
  }

  /** Writes everything queued; commands queued during a write go out in the next one. */
  async #flush(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    this.#writing = true;
    try {
      // Commands sent in the same tick as the first one join its write.
      await Promise.resolve();
      while (this.#outgoing.length > 0 && this.#conn === conn) {
        const chunks = this.#outgoing;
        this.#outgoing = [];
        let bytes: Uint8Array;
        if (chunks.length === 1) {
          bytes = chunks[0];
        } else {
          let size = 0;
          for (const chunk of chunks) size += chunk.length;
          bytes = new Uint8Array(size);
          let at = 0;
          for (const chunk of chunks) {
            bytes.set(chunk, at);
            at += chunk.length;
          }
        }
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
      }
    } catch (error) {
      if (this.#conn === conn) this.#lost(conn, error);
    } finally {
      this.#writing = false;
    }
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let conn: Deno.Conn | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const { hostname, port, tls } = this.#target;
      const opening = tls ? Deno.connectTls({ hostname, port }) : Deno.connect({ hostname, port });
      let timedOut = false;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new RedisConnectionError(`connect timed out after ${this.#connectTimeoutMs} ms`));
        }, this.#connectTimeoutMs);
      });
      // A connection that opens only after the timeout is closed, not leaked.
      opening.then((late) => {
        if (timedOut) late.close();
      }, () => {});
      conn = await Promise.race([opening, timeout]);
      if (this.#closed) {
        conn.close();
        return;
      }
      if (!tls) (conn as Deno.TcpConn).setNoDelay?.(true);
      this.#conn = conn;
      void this.#readLoop(conn);
      const setup = this.#setupCommands();
      if (setup.length > 0) {
        await Promise.race([Promise.all(setup.map((args) => this.#send(args))), timeout]);
      }
      clearTimeout(timer);
      this.#ready = true;
      this.#retries = 0;
      if (this.#loggedDown) this.#logger.info("redis connection restored", { redis: this.#where });
      this.#loggedDown = false;
      for (const listener of this.#readyListeners.splice(0)) listener();
    } catch (error) {
      clearTimeout(timer);
      if (conn && this.#conn === conn) this.#lost(conn, error);
      else this.#failedAttempt(error);
    }
  }

  #setupCommands(): string[][] {
    const { username, password, database } = this.#target;
    const commands: string[][] = [];
    if (password !== undefined) {
      commands.push(username ? ["AUTH", username, password] : ["AUTH", password]);
    }
    if (database !== undefined) commands.push(["SELECT", String(database)]);
    return commands;
  }

  async #readLoop(conn: Deno.Conn): Promise<void> {
    const parser = new RespParser();
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const read = await conn.read(buffer);
        if (read === null) throw new RedisConnectionError("Redis closed the connection");
        if (this.#conn !== conn) return;
        parser.feed(buffer.subarray(0, read));
        let reply;
        while ((reply = parser.next()) !== undefined) this.#settle(reply.value);
        // The next read reuses the buffer: a partial reply's bytes are copied out first.
        parser.keepUnread();
      }
    } catch (error) {
      if (this.#conn === conn) this.#lost(conn, error);
    }
  }

  #settle(value: RespValue): void {
    if (this.#head >= this.#waiting.length) {
      throw new RedisConnectionError("a reply arrived for no command");
    }
    const waiting = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined as unknown as Waiting;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    if (value instanceof RedisReplyError) waiting.reject(value);
    else waiting.resolve(value);
  }

  #lost(conn: Deno.Conn, error: unknown): void {
    if (this.#conn !== conn) return;
    const message = error instanceof Error ? error.message : String(error);
    this.#dropConnection(new RedisConnectionError(`connection to Redis lost: ${message}`));
    this.#failedAttempt(error);
  }

  /** Closes the socket and rejects every command still waiting for its reply. */
  #dropConnection(reason: Error): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#ready = false;
    this.#outgoing = [];
    if (conn) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    const waiting = this.#waiting.slice(this.#head);
    this.#waiting = [];
    this.#head = 0;
    for (const entry of waiting) entry.reject(reason);
  }

  #failedAttempt(error: unknown): void {
    if (this.#closed) return;
    if (!this.#loggedDown) {
      this.#logger.warn("redis connection failing", {
        redis: this.#where,
        error: error instanceof Error ? error.message : String(error),
      });
      this.#loggedDown = true;
    }
    const delay = backoffCeiling(RECONNECT_BACKOFF, this.#retries++) +
      Math.floor(Math.random() * 100);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#connect();
    }, delay);
  }
}
