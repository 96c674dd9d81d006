/**
 * The migrations every runtime loads are string constants generated from sql/*.sql
 * (`deno task gen:migrations`). They must match the files byte for byte, cover every
 * file, and be what the generator would write today.
 */
import assert from "node:assert/strict";
import { MIGRATIONS } from "../../sql/migrations.generated.ts";
import { MIGRATIONS as APP_MIGRATIONS } from "../../sql/migrations.ts";
import { readMigrationFiles, renderMigrationsModule } from "../../tools/gen_migrations.ts";

const SQL_DIR = new URL("../../sql/", import.meta.url);

Deno.test("generated migrations match sql/*.sql byte for byte, one per file, in order", async () => {
  const files = await readMigrationFiles(SQL_DIR);
  assert.ok(files.length >= 4, "expected the migration files");
  assert.deepEqual(
    MIGRATIONS.map((m) => [m.version, m.name]),
    files.map((f) => [f.version, f.name]),
    "sql/migrations.generated.ts is stale: run `deno task gen:migrations`",
  );
  const encoder = new TextEncoder();
  for (const [index, file] of files.entries()) {
    const onDisk = await Deno.readFile(new URL(file.file, SQL_DIR));
    assert.deepEqual(encoder.encode(MIGRATIONS[index].sql), onDisk, `${file.file} differs`);
  }
});

Deno.test("the app migrates with the generated constants", () => {
  assert.equal(APP_MIGRATIONS, MIGRATIONS);
});

Deno.test("the generator escapes backticks, backslashes and ${ exactly", async () => {
  const tricky = "SELECT E'a\\\\b', `x`, '${not_a_placeholder}', $$body$$;\n";
  const source = renderMigrationsModule([
    { file: "009_tricky.sql", version: 9, name: "tricky", sql: tricky },
  ]).replace(/^import type .*$/m, "");
  const url = `data:application/typescript;base64,${btoa(source)}`;
  const module = await import(url);
  assert.equal(module.MIGRATIONS[0].sql, tricky);
  assert.equal(module.MIGRATIONS[0].name, "tricky");
});
