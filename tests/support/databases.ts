/**
 * Databases for tests: PGlite in memory (always) and the PostgreSQL server named by
 * TEST_DATABASE_URL (in CI). Each PostgreSQL use gets its own schema, so parallel
 * runs never see each other's rows, and drops it afterwards.
 */
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { pgliteDriver, postgresDriver, type SqlDriver } from "../../lib/store/driver.ts";
import { migrate, type Migration } from "../../lib/store/migrate.ts";
import { MIGRATIONS } from "../../sql/migrations.ts";
import { pgliteWorkerDriver } from "../../runtime/pglite_worker_driver.ts";

export const TEST_DATABASE_URL = Deno.env.get("TEST_DATABASE_URL");
export const TEST_REDIS_URL = Deno.env.get("TEST_REDIS_URL");
export const IN_CI = Deno.env.get("CI") === "true";

if (IN_CI && !TEST_DATABASE_URL) {
  throw new Error("CI=true but TEST_DATABASE_URL is not set: database tests must run in CI");
}
if (IN_CI && !TEST_REDIS_URL) {
  throw new Error("CI=true but TEST_REDIS_URL is not set: Redis tests must run in CI");
}

/** True when there is no PostgreSQL to test against (outside CI only). */
export const postgresMissing = !TEST_DATABASE_URL;
/** True when there is no Redis to test against (outside CI only). */
export const redisMissing = !TEST_REDIS_URL;

export interface TestDatabase {
  name: string;
  driver: SqlDriver;
  /** For PostgreSQL: a connection string whose search_path is this test's schema. */
  url?: string;
  schema?: string;
  dispose(): Promise<void>;
}

/** PGlite in memory, migrated with `migrations` (default: all of them). */
export async function pgliteDatabase(
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<TestDatabase> {
  const driver = pgliteDriver(new PGlite());
  await migrate(driver, migrations);
  return { name: "pglite", driver, dispose: () => driver.close() };
}

/** PGlite in memory on a worker thread of its own (the driver `serve` uses embedded). */
export async function pgliteWorkerDatabase(): Promise<TestDatabase> {
  const driver = await pgliteWorkerDriver();
  await migrate(driver, MIGRATIONS);
  return { name: "pglite-worker", driver, dispose: () => driver.close() };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 8)}`;
}

/** A schema of its own on the test server, migrated with `migrations` (default: all). */
export async function postgresDatabase(
  options: { max?: number; migrations?: readonly Migration[] } = {},
): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const schema = uniqueName("t");
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const url = withSearchPath(TEST_DATABASE_URL, schema);
  const client = (max: number) =>
    postgres(TEST_DATABASE_URL!, { max, onnotice: () => {}, connection: { search_path: schema } });
  const driver = postgresDriver(client(options.max ?? 4), { openSession: () => client(1) });
  await migrate(driver, options.migrations ?? MIGRATIONS);
  return {
    name: "postgres",
    driver,
    url,
    schema,
    async dispose() {
      await driver.close();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** A connection string that selects `schema` (libpq `options=-c search_path=...`). */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("options", `-c search_path=${schema}`);
  return parsed.toString();
}

/** The engines a store-level suite runs on: PGlite always, PostgreSQL when configured. */
export const ENGINES: { name: string; missing: boolean; open: () => Promise<TestDatabase> }[] = [
  { name: "pglite", missing: false, open: pgliteDatabase },
  { name: "pglite-worker", missing: false, open: pgliteWorkerDatabase },
  { name: "postgres", missing: postgresMissing, open: () => postgresDatabase() },
];
