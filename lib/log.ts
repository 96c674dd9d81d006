/**
 * Structured logging: one JSON object per line on the console, so any log collector
 * can parse it. Secrets are scrubbed before anything is written.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured logging: a message and fields per line. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something degraded but handled. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** A failure. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: Record<string, unknown>): Logger;
  /**
   * The per-request access line at info: the same JSON object as `info("request", ...)`
   * formatted by hand, without the redaction pass, for fields the caller vouches for
   * (ids, a route pattern, numbers: never header values or query text). Optional, so
   * that other Logger implementations fall back to `info`.
   */
  access?(fields: AccessFields): void;
}

/** The fields of an access line (all plain scalars, none of them secret). */
export interface AccessFields {
  /** The request's X-Request-Id. */
  request_id: string | undefined;
  /** The HTTP method. */
  method: string;
  /** The matched route pattern (never the raw path). */
  route: string;
  /** The response status. */
  status: number;
  /** Milliseconds spent answering. */
  ms: number;
  /** The caller's tenant, once authenticated. */
  tenant: string | undefined;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are never logged, whatever their content. */
const SECRET_KEY = /authorization|token|secret|password|api[_-]?key|cookie|signature/i;

/** Values that look like secrets wherever they appear in a string. */
const SECRET_TEXT = [
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /((?:access_token|refresh_token|client_secret|token|key)=)[^&\s"]+/gi,
];

/** A cheap test that lets most strings skip the replacements. */
const MAYBE_SECRET = /bearer|token|secret|key=/i;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    if (!MAYBE_SECRET.test(value)) return value;
    return SECRET_TEXT.reduce((text, pattern) => text.replace(pattern, "$1[redacted]"), value);
  }
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (depth > 6 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map((
      [key, item],
    ) => [key, SECRET_KEY.test(key) ? "[redacted]" : redact(item, depth + 1)]),
  );
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to console.log / console.error. */
  write?: (line: string, level: LogLevel) => void;
  now?: () => Date;
}

/**
 * The default writer: lines are gathered and written together once per turn of the
 * event loop (or at 64 KiB), so a busy server makes one write per batch instead of one
 * per request. Warnings and errors go to stderr at once, after what is pending.
 */
function bufferedConsole(): (line: string, level: LogLevel) => void {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("\n");
    pending = [];
    bytes = 0;
    console.log(text);
  };
  globalThis.addEventListener?.("unload", flush);
  return (line, level) => {
    if (level === "error" || level === "warn") {
      flush();
      console.error(line);
      return;
    }
    pending.push(line);
    bytes += line.length;
    if (bytes >= 64 * 1024) return flush();
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 0);
    }
  };
}

let sharedConsoleWriter: ((line: string, level: LogLevel) => void) | undefined;

export function createLogger(
  options: LoggerOptions = {},
  base: Record<string, unknown> = {},
): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const write = options.write ?? (sharedConsoleWriter ??= bufferedConsole());
  const now = options.now ?? (() => new Date());
  // The access line's time: the same text as now().toISOString(), made once per
  // millisecond (a busy server writes many lines within one).
  let lastMs = NaN;
  let lastIso = "";
  const isoNow = options.now ? () => options.now!().toISOString() : () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
  const emit = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < threshold) return;
    const line = { time: now().toISOString(), level, msg: message, ...base, ...fields };
    write(JSON.stringify(redact(line)), level);
  };
  // The base fields, redacted once, as the text between the message and the fields.
  const baseText = Object.keys(base).length ? `,${JSON.stringify(redact(base)).slice(1, -1)}` : "";
  const quote = JSON.stringify;
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(options, { ...base, ...fields }),
    access(fields: AccessFields) {
      if (LEVELS.info < threshold) return;
      // Field order and values as `info("request", fields)` writes them; undefined
      // fields are left out, as JSON.stringify leaves them out.
      let line = `{"time":"${isoNow()}","level":"info","msg":"request"${baseText}`;
      const id = fields.request_id;
      // A client may choose its request id: scrub it as redact() would.
      if (id !== undefined) {
        line += `,"request_id":${quote(MAYBE_SECRET.test(id) ? redact(id) : id)}`;
      }
      line += `,"method":${quote(fields.method)},"route":${
        quote(fields.route)
      },"status":${fields.status},"ms":${fields.ms}`;
      if (fields.tenant !== undefined) line += `,"tenant":${quote(fields.tenant)}`;
      write(`${line}}`, "info");
    },
  };
}

/** A logger that drops everything (tests, libraries used quietly). */
export const silentLogger: Logger = createLogger({ write: () => {} });
