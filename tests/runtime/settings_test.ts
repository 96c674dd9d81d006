/** The settings each entry point parses once, and their documentation. */
import assert from "node:assert/strict";
import type { z } from "zod";
import { AppConfigSchema, ConfigError } from "../../lib/config.ts";
import { CacheEnvSchema } from "../../lib/cache/settings.ts";
import { IngestConfigSchema } from "../../ingest/ingest_settings.ts";
import { HttpEnvSchema } from "../../ingest/sources.ts";
import { MetaConfigSchema } from "../../ingest/meta.ts";
import { GoogleConfigSchema } from "../../ingest/google.ts";
import { LinkedInConfigSchema } from "../../ingest/linkedin.ts";
import { TikTokConfigSchema } from "../../ingest/tiktok.ts";
import {
  BotConfigSchema,
  loadBotSettings,
  loadEdgeSettings,
  loadMigrateSettings,
  loadServeSettings,
  StorageConfigSchema,
} from "../../runtime/settings.ts";

/** Every schema a settings loader reads the environment through. */
const SECTION_SCHEMAS: Record<string, z.ZodType> = {
  AppConfigSchema,
  CacheEnvSchema,
  IngestConfigSchema,
  HttpEnvSchema,
  MetaConfigSchema,
  GoogleConfigSchema,
  LinkedInConfigSchema,
  TikTokConfigSchema,
  BotConfigSchema,
  StorageConfigSchema,
};

/** The variable names of an object schema, through any transform or refinement around it. */
function variablesOf(schema: z.ZodType): string[] {
  const def = (schema as unknown as { def: { type: string; in?: z.ZodType; shape?: object } }).def;
  if (def.type === "object" && def.shape) return Object.keys(def.shape);
  if (def.type === "pipe" && def.in) return variablesOf(def.in);
  throw new Error(`not an object schema: ${def.type}`);
}

Deno.test("every variable the settings read is documented in docs/configuration.md", async () => {
  const docs = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  const documented = new Set([...docs.matchAll(/^\| `([A-Z0-9_]+)` +\|/gm)].map((m) => m[1]));
  const read = Object.entries(SECTION_SCHEMAS).flatMap(([name, schema]) =>
    variablesOf(schema).map((variable) => [name, variable] as const)
  );
  assert.ok(read.length > 50, "the schemas were read");
  const undocumented = read.filter(([, variable]) => !documented.has(variable));
  assert.deepEqual(undocumented, [], "variables missing from docs/configuration.md");
});

Deno.test("each entry point reports every problem of every section in one ConfigError", () => {
  const broken = {
    PORT: "eighty",
    BOT_PORT: "-1",
    CACHE_TTL_SECONDS: "soon",
    INGEST_TENANT: "a b",
    BOT_TIME_ZONE: "Mars/Olympus",
    RETENTION_MONTHS: "0",
  };
  const problems = (load: () => unknown) => {
    try {
      load();
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.invalid.map((item) => item.variable).sort();
    }
    assert.fail("expected a ConfigError");
  };
  assert.deepEqual(problems(() => loadServeSettings(broken)), [
    "BOT_PORT",
    "BOT_TIME_ZONE",
    "CACHE_TTL_SECONDS",
    "INGEST_TENANT",
    "PORT",
    "RETENTION_MONTHS",
  ]);
  // Each entry point reads only its sections: the bot needs no cache or ingestion settings.
  assert.deepEqual(problems(() => loadBotSettings(broken)), ["BOT_PORT", "BOT_TIME_ZONE", "PORT"]);
  assert.deepEqual(problems(() => loadEdgeSettings(broken)), ["CACHE_TTL_SECONDS", "PORT"]);
  assert.deepEqual(problems(() => loadMigrateSettings(broken)), ["PORT"]);
});

Deno.test("settings: documented defaults, one value per variable, and what was given", () => {
  const settings = loadServeSettings({ LOG_LEVEL: "warn", INGEST_TENANT: "acme", PORT: " " });
  assert.equal(settings.app.PORT, 8080, "blank counts as unset");
  assert.equal(settings.app.MAX_BODY_BYTES, 5 * 1024 * 1024);
  assert.equal(settings.app.LOG_LEVEL, "warn");
  assert.equal(settings.bot.BOT_PORT, 8081);
  assert.equal(settings.ingest.INGEST_TENANT, "acme");
  assert.deepEqual([...settings.given].sort(), ["INGEST_TENANT", "LOG_LEVEL"]);
  assert.equal(loadBotSettings({}).app.MAX_BODY_BYTES, 5 * 1024 * 1024, "the bot's too");
});

Deno.test("RETENTION_MONTHS: unset keeps everything; a whole number of months from 1", () => {
  assert.equal(loadServeSettings({}).storage.RETENTION_MONTHS, undefined);
  assert.equal(loadServeSettings({ RETENTION_MONTHS: "" }).storage.RETENTION_MONTHS, undefined);
  assert.equal(loadServeSettings({ RETENTION_MONTHS: "24" }).storage.RETENTION_MONTHS, 24);
  // It must keep every day ingestion re-reads (INGEST_LOOKBACK_DAYS, 28 by default).
  assert.equal(loadServeSettings({ RETENTION_MONTHS: "1" }).storage.RETENTION_MONTHS, 1);
  assert.throws(
    () => loadServeSettings({ RETENTION_MONTHS: "2", INGEST_LOOKBACK_DAYS: "90" }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.invalid.some((item) =>
        item.variable === "RETENTION_MONTHS" && /INGEST_LOOKBACK_DAYS=90/.test(item.problem)
      ),
  );
  for (const bad of ["0", "-3", "1.5", "two years"]) {
    assert.throws(
      () => loadServeSettings({ RETENTION_MONTHS: bad }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.invalid.some((item) => item.variable === "RETENTION_MONTHS"),
      bad,
    );
  }
});
