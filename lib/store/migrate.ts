/**
 * Versioned migrations: each applied once, in order, in its own transaction, and
 * recorded in `schema_migrations`. A transaction-scoped advisory lock serializes
 * instances that start at the same time, so two replicas never apply one twice.
 *
 * An online change needs more than one transaction (add a CHECK NOT VALID, validate it
 * while writes go on, then swap): a script may be cut into steps by lines reading
 * `-- migrate:step`. Each step commits on its own, under the lock; the version is
 * recorded with the last. Every step must be a no-op when already done, since a run
 * interrupted between steps repeats the earlier ones.
 */
import { z } from "zod";
import type { SqlDriver } from "./driver.ts";

export const MigrationSchema = z.object({
  version: z.number().int().positive(),
  name: z.string().min(1),
  sql: z.string().min(1),
});
/** One schema change: applied once, in version order, in its own transaction. */
export interface Migration {
  /** Position in the order; recorded in `schema_migrations` once applied. */
  version: number;
  /** A short name, recorded beside the version. */
  name: string;
  /** The script: one or more SQL statements separated by semicolons. */
  sql: string;
}

/**
 * An arbitrary constant that names "schema migration" in the advisory-lock space. Also
 * taken by partition maintenance (lib/store/partitions.ts), which changes the schema too.
 */
export const MIGRATION_LOCK_KEY = 7_100_420_001;

/** The line that cuts a migration script into steps, each its own transaction. */
export const STEP_MARKER = /^--\s*migrate:step\b.*$/m;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order, each
 * in its own transaction under a transaction-scoped advisory lock, so processes starting
 * together never apply one twice. `openMetricsStore` calls it with
 * {@linkcode MIGRATIONS}; call it yourself to add your own migrations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PGlite } from "@electric-sql/pglite";
 * import { migrate, MIGRATIONS, pgliteDriver } from "@campaign-analytics/core/store";
 *
 * const driver = pgliteDriver(new PGlite());
 * const versions = MIGRATIONS.map((migration) => migration.version);
 * assert.deepEqual(await migrate(driver, MIGRATIONS), versions);
 * assert.deepEqual(await migrate(driver, MIGRATIONS), []); // already applied
 * await driver.close();
 * ```
 *
 * @param driver Where to apply them.
 * @param migrations The migrations, in any order; versions must be unique.
 * @returns The versions applied by this call.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[],
): Promise<number[]> {
  const ordered = [...migrations].map((m) => MigrationSchema.parse(m)).sort((a, b) =>
    a.version - b.version
  );
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS can still collide.
  await driver.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  const applied: number[] = [];
  for (const migration of ordered) {
    const steps = migration.sql.split(STEP_MARKER);
    let ran = false;
    for (const [index, step] of steps.entries()) {
      const last = index === steps.length - 1;
      const done = await driver.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
        const recorded = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [
          migration.version,
        ]);
        if (recorded.length > 0) return true;
        await runScript(tx, step);
        if (last) {
          await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
            migration.version,
            migration.name,
          ]);
          ran = true;
        }
        return false;
      });
      if (done) break; // another process applied it meanwhile
    }
    if (ran) applied.push(migration.version);
  }
  return applied;
}

/** Runs a multi-statement script (without parameters) statement by statement. */
async function runScript(tx: { query: SqlDriver["query"] }, script: string): Promise<void> {
  for (const statement of splitStatements(script)) await tx.query(statement);
}

/**
 * Splits on semicolons outside quotes, comments and dollar-quoted bodies. Drivers
 * differ in whether they accept several statements in one extended-protocol call,
 * so each statement is sent on its own.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = "";
  let index = 0;
  while (index < script.length) {
    const rest = script.slice(index);
    const skip = /^--[^\n]*/.exec(rest) ?? /^\/\*[\s\S]*?\*\//.exec(rest) ??
      /^'(?:[^']|'')*'/.exec(rest) ?? /^"(?:[^"]|"")*"/.exec(rest) ??
      dollarQuoted(rest);
    if (skip) {
      if (!skip[0].startsWith("--") && !skip[0].startsWith("/*")) current += skip[0];
      index += skip[0].length;
      continue;
    }
    if (script[index] === ";") {
      if (current.trim()) statements.push(current.trim());
      current = "";
    } else {
      current += script[index];
    }
    index += 1;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

function dollarQuoted(text: string): RegExpExecArray | null {
  const tag = /^\$[A-Za-z_]*\$/.exec(text);
  if (!tag) return null;
  const end = text.indexOf(tag[0], tag[0].length);
  if (end < 0) return null;
  return [text.slice(0, end + tag[0].length)] as unknown as RegExpExecArray;
}
