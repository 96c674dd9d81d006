/**
 * The registry of platform connectors: builds the enabled sources from the environment.
 * A misconfiguration is reported once for all of them, naming every missing or invalid
 * variable (never a value), so an operator fixes the environment in one go.
 */
import { z } from "zod";
import type { Source, SourceName } from "./source.ts";
import { ConfigError, type Env, parseEnv } from "../lib/config.ts";
import type { HttpDeps, RetryPolicy } from "./http.ts";
import { createMetaSource, parseMetaConfig } from "./meta.ts";
import { createGoogleSource, parseGoogleConfig } from "./google.ts";
import { createLinkedInSource, parseLinkedInConfig } from "./linkedin.ts";
import { createTikTokSource, parseTikTokConfig } from "./tiktok.ts";

/** Builds one source from the environment; throws ConfigError when it is misconfigured. */
export type SourceFactory = (env: Env, deps: HttpDeps) => Source;

export const PLATFORM_SOURCE_FACTORIES: Readonly<Record<string, SourceFactory>> = {
  meta: (env, deps) => createMetaSource(parseMetaConfig(env), deps),
  google: (env, deps) => createGoogleSource(parseGoogleConfig(env), deps),
  linkedin: (env, deps) => createLinkedInSource(parseLinkedInConfig(env), deps),
  tiktok: (env, deps) => createTikTokSource(parseTikTokConfig(env), deps),
};

export interface SourcesDeps extends HttpDeps {
  /**
   * Factories for sources this registry does not build itself (the fake streamer lives in
   * ingest/fake.ts), or replacements of the platform ones.
   */
  factories?: Partial<Record<SourceName, SourceFactory>>;
}

const PositiveNumber = z.coerce.number().positive();

/** Optional tuning of every connector's HTTP behaviour. */
const HttpEnvSchema = z.object({
  INGEST_HTTP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).optional(),
  INGEST_HTTP_TIMEOUT_SECONDS: PositiveNumber.optional(),
  INGEST_HTTP_MAX_WAIT_SECONDS: PositiveNumber.optional(),
}).transform((env): Partial<RetryPolicy> => {
  const policy: Partial<RetryPolicy> = {};
  if (env.INGEST_HTTP_MAX_ATTEMPTS !== undefined) policy.maxAttempts = env.INGEST_HTTP_MAX_ATTEMPTS;
  if (env.INGEST_HTTP_TIMEOUT_SECONDS !== undefined) {
    policy.timeoutMs = env.INGEST_HTTP_TIMEOUT_SECONDS * 1000;
  }
  if (env.INGEST_HTTP_MAX_WAIT_SECONDS !== undefined) {
    policy.maxWaitMs = env.INGEST_HTTP_MAX_WAIT_SECONDS * 1000;
  }
  return policy;
});

export function parseHttpEnv(env: Env): Partial<RetryPolicy> {
  return parseEnv(HttpEnvSchema, env, "ingest HTTP settings");
}

/**
 * The sources named in `names` (e.g. ["meta", "tiktok"]), configured from `env`.
 * Throws one ConfigError naming every missing or invalid variable of every named source
 * (and any unknown source name); returns nothing partial.
 */
export function createSources(
  env: Env,
  names: readonly string[],
  deps: SourcesDeps = {},
): Source[] {
  const errors: ConfigError[] = [];
  const sources: Source[] = [];
  let retry: Partial<RetryPolicy> = {};
  try {
    retry = parseHttpEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(error);
  }
  const { factories = {}, ...httpDeps } = deps;
  const connectorDeps: HttpDeps = { ...httpDeps, retry: { ...retry, ...deps.retry } };
  const wanted = [...new Set(names.map((name) => name.trim().toLowerCase()).filter(Boolean))];
  for (const name of wanted) {
    const factory = factories[name as SourceName] ?? PLATFORM_SOURCE_FACTORIES[name];
    if (!factory) {
      errors.push(new ConfigError({ problems: [`unknown source "${name}"`] }));
      continue;
    }
    try {
      sources.push(factory(env, connectorDeps));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
    }
  }
  if (errors.length) throw ConfigError.combine(errors, "ingest configuration");
  return sources;
}
