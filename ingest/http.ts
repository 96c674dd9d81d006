/**
 * The one way connectors talk HTTP: bounded retries with exponential backoff and full
 * jitter, honouring the platform's own "wait this long" signal, a per-attempt timeout,
 * and secret scrubbing of everything that ends up in an error or a log line.
 *
 * Each platform decides what a response means (a Meta throttle is an HTTP 400, a TikTok
 * one an HTTP 200) through a `Classifier`; anything it leaves undecided falls back to
 * `defaultClassify` (429/408/5xx retry, 401/403 auth, other 4xx permanent).
 *
 * Clock, randomness, sleeping and fetch are injectable so tests run instantly and can
 * record every wait.
 */
import { type Logger, redact, silentLogger } from "../lib/log.ts";
import { backoffDelay, type RetryPolicy } from "../lib/retry.ts";

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The shared retry policy, plus what an HTTP request adds to it. */
export interface HttpRetryPolicy extends RetryPolicy {
  /** Ceiling of any single wait, including one the platform asked for. */
  maxWaitMs: number;
  /** Per-attempt timeout (headers and body). */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: HttpRetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxWaitMs: 60_000,
  timeoutMs: 60_000,
};

/** What connectors receive from their wiring: all optional, real defaults otherwise. */
export interface HttpDeps {
  fetch?: typeof fetch;
  sleep?: Sleep;
  /** Uniform in [0, 1). */
  random?: () => number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  logger?: Logger;
  retry?: Partial<HttpRetryPolicy>;
}

/** A response read in full: status, headers, raw text and the JSON body when it parses. */
export interface HttpResponseData {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

export type Verdict =
  | { action: "ok" }
  | { action: "retry"; reason: string; waitMs?: number }
  | { action: "auth"; reason: string }
  | { action: "fail"; reason: string };

export interface ClassifyContext {
  /** Milliseconds since the epoch (for HTTP-date Retry-After). */
  now: number;
}

/** Decides what a response means; `undefined` defers to `defaultClassify`. */
export type Classifier = (
  response: HttpResponseData,
  context: ClassifyContext,
) => Verdict | undefined;

export type HttpErrorKind = "auth" | "permanent" | "transient";

/** A request that finally failed. Its message is already free of secrets. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: HttpErrorKind,
    readonly status?: number,
    /** The platform's own explanation (scrubbed), for connectors to build messages on. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface HttpRequest {
  url: string | URL;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  signal?: AbortSignal;
  /** Short words for errors and logs, e.g. "insights of account 123". */
  label?: string;
  /** Overrides the client's classifier for this request (e.g. an OAuth endpoint). */
  classify?: Classifier;
}

export interface HttpClient {
  /** Resolves with an "ok" response; throws HttpError (or the caller's abort reason). */
  request(request: HttpRequest): Promise<HttpResponseData>;
  /** Removes secrets (known values and token-looking text) from any string. */
  scrub(text: string): string;
}

export interface HttpClientOptions {
  /** For log lines. */
  platform: string;
  classify?: Classifier;
  /** Secret values currently in use; read at each scrub so rotating tokens are covered. */
  secrets?: () => readonly (string | undefined)[];
  deps?: HttpDeps;
}

const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const deps = options.deps ?? {};
  const policy: HttpRetryPolicy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
  const doFetch = deps.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const logger = (deps.logger ?? silentLogger).child({ platform: options.platform });
  const scrub = (text: string) => scrubSecrets(text, options.secrets?.() ?? []);

  async function attempt(request: HttpRequest): Promise<HttpResponseData> {
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const response = await doFetch(request.url, {
      method: request.method ?? "GET",
      headers: request.headers,
      body: request.body,
      signal,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: parseJson(text) };
  }

  async function request(request: HttpRequest): Promise<HttpResponseData> {
    const label = scrub(request.label ?? `${request.method ?? "GET"} ${describeUrl(request.url)}`);
    const classify = request.classify ?? options.classify;
    for (let attemptNo = 1;; attemptNo++) {
      const outcome = await attempt(request).then(
        (response) => ({ response }),
        (failure: unknown) => ({ failure }),
      );
      if (request.signal?.aborted) throw request.signal.reason;
      let verdict: Verdict;
      let status: number | undefined;
      if ("response" in outcome) {
        status = outcome.response.status;
        const context = { now: now() };
        verdict = classify?.(outcome.response, context) ??
          defaultClassify(outcome.response, context);
        if (verdict.action === "ok") return outcome.response;
      } else {
        // Network errors and timeouts are transient by nature.
        verdict = { action: "retry", reason: describeFailure(outcome.failure) };
      }
      const reason = scrub(verdict.reason);
      if (verdict.action === "auth") {
        throw new HttpError(`${label} was refused: ${reason}`, "auth", status, reason);
      }
      if (verdict.action === "fail") {
        throw new HttpError(`${label} failed: ${reason}`, "permanent", status, reason);
      }
      if (attemptNo >= policy.maxAttempts) {
        throw new HttpError(
          `${label} still failing after ${attemptNo} attempts: ${reason}`,
          "transient",
          status,
          reason,
        );
      }
      const waitMs = retryWaitMs(attemptNo, verdict.waitMs, policy, random);
      logger.warn("request failed, retrying", {
        request: label,
        url: scrub(describeUrl(request.url)),
        attempt: attemptNo,
        status,
        reason,
        wait_ms: waitMs,
      });
      await sleep(waitMs, request.signal);
    }
  }

  return { request, scrub };
}

/**
 * The wait before the next attempt: the platform's own signal when it gave one (capped),
 * otherwise "full jitter" backoff, uniform in [0, min(maxDelay, base · 2^(n−1))), which
 * spreads a crowd of clients out instead of having them retry in lockstep.
 */
export function retryWaitMs(
  attemptNo: number,
  signalMs: number | undefined,
  policy: HttpRetryPolicy,
  random: () => number,
): number {
  if (signalMs !== undefined && Number.isFinite(signalMs) && signalMs >= 0) {
    return Math.min(Math.ceil(signalMs), policy.maxWaitMs);
  }
  const backoff = backoffDelay(policy, attemptNo - 1, random);
  return Math.min(backoff, policy.maxWaitMs);
}

/** The generic meaning of a status: 2xx ok; 408/429/5xx retry (with Retry-After); 401/403 auth. */
export function defaultClassify(response: HttpResponseData, context: ClassifyContext): Verdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { action: "ok" };
  const reason = `HTTP ${status}${excerpt(response.text)}`;
  if (status === 408 || status === 429 || status >= 500) {
    const waitMs = parseRetryAfter(response.headers.get("retry-after"), context.now);
    return { action: "retry", reason, waitMs };
  }
  if (status === 401 || status === 403) return { action: "auth", reason };
  return { action: "fail", reason };
}

/** `Retry-After` as milliseconds: delta-seconds ("120") or an HTTP date; undefined if absent. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** A protobuf JSON Duration ("1.5s", "30s", "0.250s") as milliseconds. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** Token-looking text and every known secret value (raw and URL-encoded) become "[redacted]". */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let result = redact(text) as string;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      result = result.split(form).join("[redacted]");
    }
  }
  return result;
}

/** Origin and path only: query strings carry tokens (`access_token=`) and are left out. */
export function describeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A bounded piece of a response body for error messages (scrubbed later by the client). */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "";
  return `: ${flat.length > max ? `${flat.slice(0, max)}…` : flat}`;
}

function describeFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
  if (error instanceof Error) return `network error: ${error.message}`;
  return "network error";
}

/** Finds every value stored under `key` anywhere in a JSON value (depth-limited). */
export function findValues(value: unknown, key: string, depth = 0): unknown[] {
  if (depth > 8 || typeof value !== "object" || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item) => findValues(item, key, depth + 1));
  return Object.entries(value).flatMap(([name, item]) =>
    name === key ? [item, ...findValues(item, key, depth + 1)] : findValues(item, key, depth + 1)
  );
}
