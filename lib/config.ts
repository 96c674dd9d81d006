/**
 * Configuration from environment variables: the API section's schema, the helpers every
 * section's schema is built from, and ConfigError. Each entry point (runtime/settings.ts)
 * parses the whole environment once, section by section, and passes each part the
 * section it needs. The environment comes in as a plain record, so the same code reads
 * the process environment in a container and the bindings of an edge runtime. An invalid
 * value stops start-up with one message naming every bad variable.
 */
import { z } from "zod";
import { isValidTimeZone } from "./dates.ts";
import { CurrencySchema, TenantIdSchema } from "./schema.ts";

export type Env = Record<string, string | undefined>;

/** An integer variable with a default and bounds (blank = unset, see parseEnv). */
export function envInteger(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** A yes/no variable: true, 1, yes, on (case-insensitive) or their opposites. */
export const envFlag = z.string().trim().toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"]))
  .transform((value) => ["true", "1", "yes", "on"].includes(value))
  .default(false);

/** A comma-separated list; blanks between commas are ignored. */
export const envList = z.string().default("").transform((text) =>
  text.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
);

const optionalText = z.string().trim().optional();

/** `API_KEY`: comma-separated keys, each optionally written `tenant:key`. */
export const ApiKeySchema = z.object({ tenant: TenantIdSchema, key: z.string().min(8) });
export type ApiKey = z.infer<typeof ApiKeySchema>;

/**
 * A comma-separated list of `tenant:key` items. With `defaultTenant`, a bare `key` is
 * that tenant's; without it every item must name its tenant.
 */
export function tenantKeyList(defaultTenant?: string) {
  return envList.transform((items, ctx) =>
    items.map((item) => {
      const separator = item.indexOf(":");
      const candidate = separator > 0
        ? { tenant: item.slice(0, separator), key: item.slice(separator + 1) }
        : { tenant: defaultTenant ?? "", key: item };
      const parsed = ApiKeySchema.safeParse(candidate);
      if (!parsed.success) {
        ctx.addIssue({
          code: "custom",
          message: defaultTenant === undefined
            ? "expected tenant:key items (keys of 8+ characters)"
            : "each key needs at least 8 characters",
        });
        return candidate;
      }
      return parsed.data;
    })
  );
}

const apiKeys = tenantKeyList("default");

export const AppConfigSchema = z.object({
  PORT: envInteger(8080, 0, 65535),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  DATABASE_URL: optionalText,
  DATABASE_POOL_SIZE: envInteger(10, 1, 200),
  DATA_DIR: z.string().default("./data"),
  API_KEY: apiKeys,
  JWT_SECRET: z.string().min(32, "use at least 32 characters for HS256").optional(),
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  CORS_ORIGINS: envList,
  /** Bearer token of the Prometheus scraper for GET /metrics (tenant keys get 403). */
  METRICS_TOKEN: z.string().trim().min(16, "use at least 16 characters").optional(),
  MAX_BODY_BYTES: envInteger(5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  DEFAULT_TIME_ZONE: z.string().default("UTC").refine(isValidTimeZone, "not an IANA time zone"),
  /** Answers report money in this currency unless a request says `currency=` (unset: as stored). */
  REPORTING_CURRENCY: CurrencySchema.optional(),
  /**
   * True: cached insights reads go through Hono like every other request, instead of the
   * fast path in front of it (handlers/fast_path.ts). Same answers either way.
   */
  HTTP_FAST_PATH_DISABLED: envFlag,
});
export type AppConfig = z.infer<typeof AppConfigSchema>;

export interface InvalidVariable {
  variable: string;
  problem: string;
}

export interface ConfigErrorDetails {
  /** Required variables that are unset or blank. */
  missing?: readonly string[];
  /** Variables set to something unusable, with what is wrong (never the value). */
  invalid?: readonly InvalidVariable[];
  /** Problems that are not about one variable (e.g. an unknown source name). */
  problems?: readonly string[];
  /** What was being configured, e.g. "meta source". */
  context?: string;
}

export class ConfigError extends Error {
  readonly missing: readonly string[];
  readonly invalid: readonly InvalidVariable[];
  readonly problems: readonly string[];

  constructor(details: ConfigErrorDetails) {
    const missing = details.missing ?? [];
    const invalid = details.invalid ?? [];
    const problems = details.problems ?? [];
    const parts: string[] = [];
    if (missing.length) parts.push(`missing environment variables: ${missing.join(", ")}`);
    if (invalid.length) {
      parts.push(
        `invalid environment variables: ${
          invalid.map(({ variable, problem }) => `${variable} (${problem})`).join(", ")
        }`,
      );
    }
    parts.push(...problems);
    super(`${details.context ?? "configuration"}: ${parts.join("; ") || "invalid"}`);
    this.name = "ConfigError";
    this.missing = missing;
    this.invalid = invalid;
    this.problems = problems;
  }

  /** One error naming every problem of several. */
  static combine(errors: readonly ConfigError[], context?: string): ConfigError {
    const missing = [...new Set(errors.flatMap((error) => error.missing))];
    const seen = new Set<string>();
    const invalid = errors.flatMap((error) => error.invalid).filter(({ variable }) =>
      seen.has(variable) ? false : (seen.add(variable), true)
    );
    const problems = [...new Set(errors.flatMap((error) => error.problems))];
    return new ConfigError({ missing, invalid, problems, context });
  }
}

/** Blank values count as unset: `FOO=` in a .env file means "not configured". */
function withoutBlanks(env: Env): Env {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
}

/**
 * Parses `env` with a schema whose keys are variable names. Failures become one
 * ConfigError: unset required variables are "missing", the others "invalid" with
 * zod's message (which never echoes the value).
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Env,
  context = "configuration",
): z.output<Schema> {
  const present = withoutBlanks(env);
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const missing = new Set<string>();
  const invalid = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const variable = String(issue.path[0] ?? "environment");
    if (present[variable] === undefined) missing.add(variable);
    else if (!invalid.has(variable)) invalid.set(variable, issue.message);
  }
  throw new ConfigError({
    missing: [...missing],
    invalid: [...invalid].map(([variable, problem]) => ({ variable, problem })),
    context,
  });
}

export function loadAppConfig(env: Env): AppConfig {
  return parseEnv(AppConfigSchema, env);
}

/**
 * Runs every section parser and returns their results under the same keys; the
 * ConfigErrors of all sections become one, so an operator fixes everything in one go.
 */
export function parseSections<Sections extends Record<string, unknown>>(
  parsers: { [Key in keyof Sections]: () => Sections[Key] },
  context = "configuration",
): Sections {
  const errors: ConfigError[] = [];
  const sections: Partial<Sections> = {};
  for (const key of Object.keys(parsers) as (keyof Sections)[]) {
    try {
      sections[key] = parsers[key]();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
    }
  }
  if (errors.length) throw ConfigError.combine(errors, context);
  return sections as Sections;
}

/** The names of the variables given a value (blank counts as unset). */
export function givenVariables(env: Env): ReadonlySet<string> {
  return new Set(Object.keys(withoutBlanks(env)));
}
