/**
 * The application's configuration, read from environment variables through one zod
 * schema. Entry points pass the environment in as a plain record, so the same code
 * reads `Deno.env` in a container and the bindings of an edge runtime. An invalid
 * value stops start-up with a message naming the variable.
 */
import { z } from "zod";
import { isValidTimeZone } from "./dates.ts";
import { TenantIdSchema } from "./schema.ts";

export type Env = Record<string, string | undefined>;

const emptyAsUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const optionalText = z.preprocess(emptyAsUndefined, z.string().trim().optional());
const optionalUrl = z.preprocess(emptyAsUndefined, z.url().optional());

function integer(defaultValue: number, min: number, max: number) {
  return z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(min).max(max).default(defaultValue),
  );
}

const commaList = z.preprocess(
  (value) =>
    typeof value === "string"
      ? value.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
      : [],
  z.array(z.string()),
);

/** `API_KEY`: comma-separated keys, each optionally written `tenant:key`. */
export const ApiKeySchema = z.object({ tenant: TenantIdSchema, key: z.string().min(8) });
export type ApiKey = z.infer<typeof ApiKeySchema>;

const apiKeys = commaList.transform((items, ctx) =>
  items.map((item) => {
    const separator = item.indexOf(":");
    const candidate = separator > 0
      ? { tenant: item.slice(0, separator), key: item.slice(separator + 1) }
      : { tenant: "default", key: item };
    const parsed = ApiKeySchema.safeParse(candidate);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "each key needs at least 8 characters" });
      return candidate;
    }
    return parsed.data;
  })
);

export const AppConfigSchema = z.object({
  PORT: integer(8080, 0, 65535),
  BOT_PORT: integer(8081, 0, 65535),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(["debug", "info", "warn", "error"]).default("info"),
  ),
  DATABASE_URL: optionalText,
  DATABASE_POOL_SIZE: integer(10, 1, 200),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default("./data")),
  API_KEY: apiKeys,
  JWT_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, "use at least 32 characters for HS256").optional(),
  ),
  JWT_JWKS_URL: optionalUrl,
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  CORS_ORIGINS: commaList,
  MAX_BODY_BYTES: integer(5 * 1024 * 1024, 1024, 512 * 1024 * 1024),
  DEFAULT_TIME_ZONE: z.preprocess(
    emptyAsUndefined,
    z.string().default("UTC").refine(isValidTimeZone, "not an IANA time zone"),
  ),
});
export type AppConfig = z.infer<typeof AppConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Parses a schema over the environment; the error names every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
}

export function loadAppConfig(env: Env): AppConfig {
  return parseEnv(AppConfigSchema, env);
}
