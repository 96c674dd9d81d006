/**
 * `deno task fx:import FILE [--tenant T]`: loads exchange rates from a CSV file in the
 * layout of the ECB euro reference-rate history (the same format `POST /fx-rates`
 * takes with Content-Type text/csv) into the database named by DATABASE_URL (or the
 * embedded one under DATA_DIR), then bumps the tenant's cache data version so that
 * served converted answers pick the rates up. Prints `{accepted, rejected}` as JSON;
 * exits 1 when a data line was rejected or nothing was stored, 2 on a usage or
 * configuration error. Header columns that are not current ISO 4217 codes (the ECB history
 * keeps retired ones such as CYP) are reported and skipped without failing the import.
 */
import { parseArgs } from "node:util";
import { ConfigError, type Env } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { parseEcbCsv } from "../lib/fx/rates.ts";
import { TenantIdSchema } from "../lib/schema.ts";
import { openDatabase } from "./database.ts";
import { createCachedReader } from "./cache_wiring.ts";
import { loadPipelineSettings } from "./settings.ts";

export interface ImportReport {
  file: string;
  tenant: string;
  accepted: number;
  rejected: { index: number; field: string; error: string }[];
}

function usage(problem: string): ConfigError {
  return new ConfigError({
    problems: [`${problem} (usage: fx:import FILE [--tenant T])`],
    context: "fx:import",
  });
}

export async function importRatesFile(env: Env, args: string[]): Promise<ImportReport> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tenant: { type: "string" } },
  });
  if (positionals.length !== 1) throw usage("expected exactly one CSV file");
  const settings = loadPipelineSettings(env);
  const tenant = TenantIdSchema.safeParse(values.tenant ?? settings.ingest.INGEST_TENANT);
  if (!tenant.success) throw usage(`--tenant: ${tenant.error.issues[0].message}`);
  const file = positionals[0];
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw usage(`cannot read ${file}: ${error instanceof Error ? error.message : error}`);
  }
  const { rates, rejected } = parseEcbCsv(text);
  const config = settings.app;
  const logger = createLogger({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL });
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: 2,
  }, logger);
  try {
    const accepted = await db.fx.upsertRates(tenant.data, rates, "csv");
    if (accepted > 0) {
      const reader = await createCachedReader(settings.cache, logger);
      try {
        await reader.bumpDataVersion(tenant.data);
      } finally {
        await reader.close();
      }
    }
    return { file, tenant: tenant.data, accepted, rejected };
  } finally {
    await db.close();
  }
}

if (import.meta.main) {
  try {
    const report = await importRatesFile(Deno.env.toObject(), Deno.args);
    console.log(JSON.stringify(report));
    const failed = report.accepted === 0 || report.rejected.some((reject) => reject.index > 1);
    Deno.exit(failed ? 1 : 0);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`fx:import: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
