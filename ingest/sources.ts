/**
 * The registry of platform connectors. `parseSourceSettings` reads the settings of the
 * enabled connectors (one ConfigError naming every missing or invalid variable of every
 * enabled source, never a value, so an operator fixes the environment in one go);
 * `createSources` builds the sources from those settings.
 */
import { z } from "zod";
import type { Source } from "./source.ts";
import { ConfigError, type Env, parseEnv, parseSections } from "../lib/config.ts";
import type { HttpDeps, HttpRetryPolicy } from "./http.ts";
import { createMetaSource, type MetaConfig, parseMetaConfig } from "./meta.ts";
import { createGoogleSource, type GoogleConfig, parseGoogleConfig } from "./google.ts";
import { createLinkedInSource, type LinkedInConfig, parseLinkedInConfig } from "./linkedin.ts";
import { createTikTokSource, parseTikTokConfig, type TikTokConfig } from "./tiktok.ts";
import { REAL_SOURCES } from "./ingest_settings.ts";

export type PlatformSourceName = typeof REAL_SOURCES[number];

/** The parsed settings of the enabled platform connectors, in the order they were named. */
export interface SourceSettings {
  enabled: PlatformSourceName[];
  meta?: MetaConfig;
  google?: GoogleConfig;
  linkedin?: LinkedInConfig;
  tiktok?: TikTokConfig;
  /** INGEST_HTTP_* overrides of every connector's retry policy. */
  retry: Partial<HttpRetryPolicy>;
}

const PositiveNumber = z.coerce.number().positive();

/** Optional tuning of every connector's HTTP behaviour. */
export const HttpEnvSchema = z.object({
  INGEST_HTTP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).optional(),
  INGEST_HTTP_TIMEOUT_SECONDS: PositiveNumber.optional(),
  INGEST_HTTP_MAX_WAIT_SECONDS: PositiveNumber.optional(),
}).transform((env): Partial<HttpRetryPolicy> => {
  const policy: Partial<HttpRetryPolicy> = {};
  if (env.INGEST_HTTP_MAX_ATTEMPTS !== undefined) policy.maxAttempts = env.INGEST_HTTP_MAX_ATTEMPTS;
  if (env.INGEST_HTTP_TIMEOUT_SECONDS !== undefined) {
    policy.timeoutMs = env.INGEST_HTTP_TIMEOUT_SECONDS * 1000;
  }
  if (env.INGEST_HTTP_MAX_WAIT_SECONDS !== undefined) {
    policy.maxWaitMs = env.INGEST_HTTP_MAX_WAIT_SECONDS * 1000;
  }
  return policy;
});

export function parseHttpEnv(env: Env): Partial<HttpRetryPolicy> {
  return parseEnv(HttpEnvSchema, env, "ingest HTTP settings");
}

const SETTINGS_PARSERS = {
  meta: parseMetaConfig,
  google: parseGoogleConfig,
  linkedin: parseLinkedInConfig,
  tiktok: parseTikTokConfig,
} satisfies Record<PlatformSourceName, (env: Env, tenantId: string) => unknown>;

function isPlatformSource(name: string): name is PlatformSourceName {
  return (REAL_SOURCES as readonly string[]).includes(name);
}

/**
 * The settings of the sources named in `names` (e.g. ["meta", "tiktok"]), whose accounts
 * belong to `tenantId`. Throws one ConfigError naming every missing or invalid variable
 * of every named source (and any unknown source name); returns nothing partial.
 */
export function parseSourceSettings(
  env: Env,
  names: readonly string[],
  tenantId: string,
): SourceSettings {
  const wanted = [...new Set(names.map((name) => name.trim().toLowerCase()).filter(Boolean))];
  const unknown = wanted.filter((name) => !isPlatformSource(name));
  const enabled = wanted.filter(isPlatformSource);
  const parsers: Record<string, () => unknown> = { retry: () => parseHttpEnv(env) };
  for (const name of enabled) parsers[name] = () => SETTINGS_PARSERS[name](env, tenantId);
  if (unknown.length) {
    parsers.unknown = () => {
      throw new ConfigError({ problems: unknown.map((name) => `unknown source "${name}"`) });
    };
  }
  const parsed = parseSections(parsers, "ingest configuration") as Omit<SourceSettings, "enabled">;
  return { ...parsed, enabled };
}

/** The enabled platform sources; `deps.retry` (code-level settings) wins over INGEST_HTTP_*. */
export function createSources(settings: SourceSettings, deps: HttpDeps = {}): Source[] {
  const connectorDeps: HttpDeps = { ...deps, retry: { ...settings.retry, ...deps.retry } };
  return settings.enabled.map((name) => {
    switch (name) {
      case "meta":
        return createMetaSource(settingsOf(settings.meta, name), connectorDeps);
      case "google":
        return createGoogleSource(settingsOf(settings.google, name), connectorDeps);
      case "linkedin":
        return createLinkedInSource(settingsOf(settings.linkedin, name), connectorDeps);
      case "tiktok":
        return createTikTokSource(settingsOf(settings.tiktok, name), connectorDeps);
    }
  });
}

function settingsOf<Config>(config: Config | undefined, name: string): Config {
  if (config === undefined) throw new ConfigError({ problems: [`no settings for "${name}"`] });
  return config;
}
