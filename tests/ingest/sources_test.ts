import assert from "node:assert/strict";
import { createSources, parseHttpEnv, parseSourceSettings } from "../../ingest/sources.ts";
import { loadPipelineSettings } from "../../runtime/settings.ts";
import { ConfigError } from "../../lib/config.ts";
import { SourceError } from "../../ingest/source.ts";

const COMPLETE_ENV = {
  META_ACCESS_TOKEN: "meta-secret-value",
  META_AD_ACCOUNT_IDS: "act_1",
  GOOGLE_ADS_DEVELOPER_TOKEN: "google-dev-secret",
  GOOGLE_ADS_CLIENT_ID: "client-id",
  GOOGLE_ADS_CLIENT_SECRET: "google-client-secret",
  GOOGLE_ADS_REFRESH_TOKEN: "google-refresh-secret",
  GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
  LINKEDIN_ACCESS_TOKEN: "linkedin-secret-value",
  LINKEDIN_AD_ACCOUNT_IDS: "urn:li:sponsoredAccount:5",
  TIKTOK_ACCESS_TOKEN: "tiktok-secret-value",
  TIKTOK_ADVERTISER_IDS: "7",
};

/** The sources the entry point would build: settings parsed once, then the sources. */
function sourcesFrom(env: Record<string, string>, names: string[], deps = {}) {
  return createSources(parseSourceSettings(env, names, "acme"), deps);
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("createSources builds the enabled platform sources", () => {
  const sources = sourcesFrom(COMPLETE_ENV, ["meta", "Google", "linkedin", "tiktok", "meta"]);
  assert.deepEqual(sources.map((source) => source.name), ["meta", "google", "linkedin", "tiktok"]);
  assert.ok(sources.every((source) => source.tenantId === "acme"));
  assert.deepEqual(sources.map((source) => source.accounts()), [["1"], ["1234567890"], ["5"], [
    "7",
  ]]);
  assert.deepEqual(sourcesFrom({}, []), []);
});

Deno.test("a source enabled without credentials: one error naming every missing variable", () => {
  const error = configErrorOf(() =>
    sourcesFrom({ GOOGLE_ADS_CLIENT_SECRET: "google-client-secret", META_AD_ACCOUNT_IDS: "" }, [
      "meta",
      "google",
    ])
  );
  assert.deepEqual(error.missing, [
    "META_ACCESS_TOKEN",
    "META_AD_ACCOUNT_IDS",
    "GOOGLE_ADS_DEVELOPER_TOKEN",
    "GOOGLE_ADS_CLIENT_ID",
    "GOOGLE_ADS_REFRESH_TOKEN",
    "GOOGLE_ADS_CUSTOMER_IDS",
  ]);
  for (const variable of error.missing) assert.ok(error.message.includes(variable));
  assert.ok(!error.message.includes("GOOGLE_ADS_CLIENT_SECRET"), "a set variable is not missing");
  assert.ok(!error.message.includes("google-client-secret"));
  // Sources that are not enabled need nothing.
  assert.ok(!error.message.includes("TIKTOK"));
  assert.ok(!error.message.includes("LINKEDIN"));
});

Deno.test("invalid values are named without their value; unknown sources are refused", () => {
  const error = configErrorOf(() =>
    sourcesFrom(
      {
        ...COMPLETE_ENV,
        META_AD_ACCOUNT_IDS: "act_1, secret-looking-garbage",
        LINKEDIN_VERSION: "June",
        INGEST_HTTP_MAX_ATTEMPTS: "zero",
      },
      ["meta", "linkedin", "snapchat"],
    )
  );
  assert.deepEqual(error.missing, []);
  assert.deepEqual(
    error.invalid.map((item) => item.variable).sort(),
    ["INGEST_HTTP_MAX_ATTEMPTS", "LINKEDIN_VERSION", "META_AD_ACCOUNT_IDS"],
  );
  assert.match(error.message, /unknown source "snapchat"/);
  assert.ok(!error.message.includes("secret-looking-garbage"));
  assert.ok(!error.message.includes("June"));
});

Deno.test("the entry point's settings: INGEST_TENANT read once, all sections' errors together", () => {
  const settings = loadPipelineSettings({
    ...COMPLETE_ENV,
    DATA_SOURCE: "real",
    ENABLED_SOURCES: "meta,tiktok",
    INGEST_TENANT: "globex",
  });
  assert.deepEqual(settings.sources.enabled, ["meta", "tiktok"]);
  const sources = createSources(settings.sources);
  assert.deepEqual(sources.map((source) => [source.name, source.tenantId]), [
    ["meta", "globex"],
    ["tiktok", "globex"],
  ]);
  assert.deepEqual(loadPipelineSettings({}).sources.enabled, [], "DATA_SOURCE=fake: none");

  const error = configErrorOf(() =>
    loadPipelineSettings({
      DATA_SOURCE: "real",
      ENABLED_SOURCES: "meta",
      PORT: "port",
      CACHE_TTL_SECONDS: "soon",
      FAKE_SEED: "x",
    })
  );
  assert.deepEqual(error.missing, ["META_ACCESS_TOKEN", "META_AD_ACCOUNT_IDS"]);
  assert.deepEqual(error.invalid.map((item) => item.variable).sort(), [
    "CACHE_TTL_SECONDS",
    "FAKE_SEED",
    "PORT",
  ]);
});

Deno.test("HTTP settings from the environment; code-level settings win", async () => {
  assert.deepEqual(parseHttpEnv({}), {});
  assert.deepEqual(
    parseHttpEnv({
      INGEST_HTTP_MAX_ATTEMPTS: "3",
      INGEST_HTTP_TIMEOUT_SECONDS: "15",
      INGEST_HTTP_MAX_WAIT_SECONDS: "90",
    }),
    { maxAttempts: 3, timeoutMs: 15_000, maxWaitMs: 90_000 },
  );

  let calls = 0;
  const failing = (() => {
    calls++;
    return Promise.resolve(new Response("down", { status: 503 }));
  }) as typeof fetch;
  const deps = { fetch: failing, sleep: () => Promise.resolve(), random: () => 0 };
  const env = {
    ...COMPLETE_ENV,
    INGEST_HTTP_MAX_ATTEMPTS: "2",
    META_API_BASE_URL: "http://meta.test",
  };

  const [fromEnv] = sourcesFrom(env, ["meta"], deps);
  const error = await fromEnv.fetch("1", { from: "2024-04-01", to: "2024-04-01" }).catch((e) => e);
  assert.ok(error instanceof SourceError);
  assert.equal(error.kind, "transient");
  assert.equal(calls, 2);
  assert.ok(!error.message.includes("meta-secret-value"));

  calls = 0;
  const [fromCode] = sourcesFrom(env, ["meta"], { ...deps, retry: { maxAttempts: 3 } });
  await fromCode.fetch("1", { from: "2024-04-01", to: "2024-04-01" }).catch(() => {});
  assert.equal(calls, 3);
});
