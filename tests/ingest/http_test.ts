import assert from "node:assert/strict";
import {
  createHttpClient,
  DEFAULT_RETRY_POLICY,
  describeUrl,
  HttpError,
  parseDurationMs,
  parseRetryAfter,
  retryWaitMs,
  scrubSecrets,
} from "../../ingest/http.ts";
import { testHarness } from "../fakes/ad_platform.ts";

const NOW = Date.parse("2024-04-24T12:00:00Z");

/** A fetch that answers from a script, one entry per call, and records the calls. */
function scriptedFetch(script: (() => Response | Promise<Response>)[]) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    const next = script[Math.min(calls.length - 1, script.length - 1)];
    return Promise.resolve().then(next);
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const ok = () => new Response(JSON.stringify({ fine: true }), { status: 200 });

Deno.test("Retry-After, Google durations and waits", async (t) => {
  await t.step("Retry-After in seconds or as an HTTP date", () => {
    assert.equal(parseRetryAfter("7", NOW), 7000);
    assert.equal(parseRetryAfter("1.5", NOW), 1500);
    assert.equal(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW), 90_000);
    assert.equal(parseRetryAfter(new Date(NOW - 90_000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfter("soon", NOW), undefined);
    assert.equal(parseRetryAfter(null, NOW), undefined);
  });

  await t.step("protobuf durations", () => {
    assert.equal(parseDurationMs("1.5s"), 1500);
    assert.equal(parseDurationMs("30s"), 30_000);
    assert.equal(parseDurationMs("0.250s"), 250);
    assert.equal(parseDurationMs("1m"), undefined);
    assert.equal(parseDurationMs(3), undefined);
  });

  await t.step("full-jitter backoff grows, is bounded, and yields to the platform's signal", () => {
    const policy = {
      ...DEFAULT_RETRY_POLICY,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      maxWaitMs: 5000,
    };
    assert.equal(retryWaitMs(1, undefined, policy, () => 0), 0);
    assert.equal(retryWaitMs(1, undefined, policy, () => 0.5), 50);
    assert.equal(retryWaitMs(3, undefined, policy, () => 0.5), 200);
    assert.equal(retryWaitMs(10, undefined, policy, () => 0.999), 999); // capped at maxBackoff
    assert.equal(retryWaitMs(1, 3000, policy, () => 0.5), 3000); // signal honoured exactly
    assert.equal(retryWaitMs(1, 60_000, policy, () => 0.5), 5000); // and capped
  });
});

Deno.test("http client: retries, classification, timeouts", async (t) => {
  await t.step("a network error is retried", async () => {
    const { deps, waits } = testHarness();
    const script = scriptedFetch([() => {
      throw new TypeError("connection reset");
    }, ok]);
    const client = createHttpClient({ platform: "test", deps: { ...deps, fetch: script.fetch } });
    const response = await client.request({ url: "http://api.test/x" });
    assert.deepEqual(response.body, { fine: true });
    assert.equal(script.calls.length, 2);
    assert.deepEqual(waits, [250]);
  });

  await t.step("429 honours Retry-After (seconds and HTTP date)", async () => {
    const { deps, waits } = testHarness();
    const script = scriptedFetch([
      () => new Response("slow down", { status: 429, headers: { "retry-after": "7" } }),
      () =>
        new Response("", {
          status: 503,
          headers: { "retry-after": new Date(NOW + 12_000).toUTCString() },
        }),
      ok,
    ]);
    const client = createHttpClient({
      platform: "test",
      deps: { ...deps, fetch: script.fetch, now: () => NOW },
    });
    await client.request({ url: "http://api.test/x" });
    assert.deepEqual(waits, [7000, 12_000]);
  });

  await t.step("401 and 403 are auth errors, not retried; other 4xx permanent", async () => {
    for (const [status, kind] of [[401, "auth"], [403, "auth"], [404, "permanent"]] as const) {
      const { deps, waits } = testHarness();
      const script = scriptedFetch([() => new Response("no", { status })]);
      const client = createHttpClient({ platform: "test", deps: { ...deps, fetch: script.fetch } });
      const error = await client.request({ url: "http://api.test/x" }).catch((error) => error);
      assert.ok(error instanceof HttpError);
      assert.equal(error.kind, kind);
      assert.equal(error.status, status);
      assert.equal(script.calls.length, 1);
      assert.deepEqual(waits, []);
    }
  });

  await t.step("a platform classifier sees errors hidden in a 200", async () => {
    const { deps, waits } = testHarness();
    const script = scriptedFetch([
      () => new Response(JSON.stringify({ code: 40100 }), { status: 200 }),
      () => new Response(JSON.stringify({ code: 0 }), { status: 200 }),
    ]);
    const client = createHttpClient({
      platform: "test",
      classify: (response) =>
        (response.body as { code: number }).code === 40100
          ? { action: "retry", reason: "throttled", waitMs: 1234 }
          : undefined,
      deps: { ...deps, fetch: script.fetch },
    });
    const response = await client.request({ url: "http://api.test/x" });
    assert.deepEqual(response.body, { code: 0 });
    assert.deepEqual(waits, [1234]);
  });

  await t.step("retries are bounded, then a transient error", async () => {
    const { deps, waits } = testHarness({ maxAttempts: 4 });
    const script = scriptedFetch([() => new Response("down", { status: 503 })]);
    const client = createHttpClient({ platform: "test", deps: { ...deps, fetch: script.fetch } });
    const error = await client.request({ url: "http://api.test/x", label: "report" })
      .catch((error) => error);
    assert.ok(error instanceof HttpError);
    assert.equal(error.kind, "transient");
    assert.match(error.message, /^report still failing after 4 attempts: HTTP 503/);
    assert.equal(script.calls.length, 4);
    assert.deepEqual(waits, [250, 500, 1000]);
  });

  await t.step("a request that hangs times out (AbortSignal.timeout) and is retried", async () => {
    const { deps, waits } = testHarness({ timeoutMs: 20, maxAttempts: 2 });
    let attempts = 0;
    const hanging = ((_: string, init?: RequestInit) => {
      attempts++;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const client = createHttpClient({ platform: "test", deps: { ...deps, fetch: hanging } });
    const error = await client.request({ url: "http://api.test/x" }).catch((error) => error);
    assert.ok(error instanceof HttpError);
    assert.equal(error.kind, "transient");
    assert.match(error.message, /timed out/);
    assert.equal(attempts, 2);
    assert.equal(waits.length, 1);
  });

  await t.step("the caller's abort stops retrying at once", async () => {
    const controller = new AbortController();
    const script = scriptedFetch([() => new Response("", { status: 503 })]);
    const client = createHttpClient({
      platform: "test",
      deps: {
        fetch: script.fetch,
        random: () => 0.5,
        sleep: (_ms, signal) => {
          controller.abort(new Error("shutting down"));
          return Promise.reject(signal?.reason);
        },
      },
    });
    const error = await client.request({ url: "http://api.test/x", signal: controller.signal })
      .catch((error) => error);
    assert.ok(!(error instanceof HttpError));
    assert.equal((error as Error).message, "shutting down");
    assert.equal(script.calls.length, 1);
  });

  await t.step("a body that is not JSON keeps its text", async () => {
    const script = scriptedFetch([() => new Response("<html>hi</html>", { status: 200 })]);
    const client = createHttpClient({ platform: "test", deps: { fetch: script.fetch } });
    const response = await client.request({ url: "http://api.test/x" });
    assert.equal(response.body, undefined);
    assert.equal(response.text, "<html>hi</html>");
  });
});

Deno.test("http client: secrets never reach errors or logs", async () => {
  const secret = "s3cr3t-TOKEN-value";
  const { deps, logs } = testHarness({ maxAttempts: 2 });
  const script = scriptedFetch([() =>
    new Response(
      `bad request for access_token=${secret}; Authorization: Bearer ${secret}; raw ${secret}`,
      { status: 500 },
    )]);
  const client = createHttpClient({
    platform: "test",
    secrets: () => [secret],
    deps: { ...deps, fetch: script.fetch },
  });
  const error = await client.request({
    url: `http://api.test/x?access_token=${secret}&after=abc`,
    headers: { authorization: `Bearer ${secret}` },
  }).catch((error) => error);
  assert.ok(error instanceof HttpError);
  assert.ok(!error.message.includes(secret), error.message);
  assert.ok(logs.length > 0);
  assert.ok(!logs.join("\n").includes(secret));
  assert.ok(error.message.includes("[redacted]"));
  // URLs in messages are origin + path only.
  assert.equal(
    describeUrl(`https://graph.test/v21.0/act_1/insights?access_token=${secret}`),
    "https://graph.test/v21.0/act_1/insights",
  );
  assert.equal(scrubSecrets(`x ${encodeURIComponent("a/b+c=d")} y`, ["a/b+c=d"]), "x [redacted] y");
});
