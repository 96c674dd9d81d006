/**
 * `deno task import` as the ingestion benchmark: N fake rows written to a CSV file
 * (header row of the unified row's field names), loaded by `main.ts import` into an
 * empty scratch schema on PostgreSQL (validation, dead letters, upsert and rollups, as
 * every source), beside COPY of the same file into a table with the same primary key.
 *
 *   BENCH_DATABASE_URL=postgres://... deno run -A bench/import.ts [--rows 300000]
 */
import { parseArgs } from "node:util";
import { COPY_COLUMNS, csvChunks, ingestRows } from "./ingest.ts";
import {
  dropPostgresSchema,
  openPostgresSchema,
  scratchSchemaName,
  urlWithSearchPath,
} from "./db.ts";
import { round } from "./stats.ts";

export interface ImportBenchResult {
  rows: number;
  copy: { seconds: number; rows_per_s: number };
  /** The whole command, process start and migrations check included. */
  import: { seconds: number; rows_per_s: number; reported_rows_per_s: number | null };
  ratio_to_copy: number;
}

export async function runImportBench(
  databaseUrl: string,
  options: { rows: number; log?: (line: string) => void },
): Promise<ImportBenchResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const rows = ingestRows(options.rows);
  const dir = await Deno.makeTempDir({ prefix: "bench-import-" });
  const file = `${dir}/rows.csv`;
  const chunks = [...csvChunks(rows)];
  await Deno.writeTextFile(file, `${COPY_COLUMNS.join(",")}\n${chunks.join("")}`);
  log(`  wrote ${rows.length.toLocaleString("en-US")} rows to a CSV file`);
  const schema = scratchSchemaName("bench_import");
  const db = await openPostgresSchema(databaseUrl, schema, { max: 2 });
  try {
    await db.driver.query(`CREATE TABLE copy_baseline (LIKE campaign_metrics INCLUDING ALL)`);
    const copyStart = performance.now();
    await db.copyCsv("copy_baseline", COPY_COLUMNS, chunks);
    const copyS = (performance.now() - copyStart) / 1000;
    log(`  COPY: ${round(copyS, 2)} s`);
    await db.driver.query("CHECKPOINT");

    const tenant = rows[0].tenant_id;
    const importStart = performance.now();
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "import",
        file,
        "--tenant",
        tenant,
      ],
      env: { DATABASE_URL: urlWithSearchPath(databaseUrl, schema), LOG_LEVEL: "warn" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const importS = (performance.now() - importStart) / 1000;
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`import failed: ${new TextDecoder().decode(output.stderr).slice(-2000)}`);
    }
    const reported = /(\d+) rows\/s/.exec(text.trim().split("\n").at(-1) ?? "");
    log(`  import: ${round(importS, 2)} s (${text.trim().split("\n").at(-1)})`);
    const copyRate = rows.length / copyS;
    const importRate = rows.length / importS;
    return {
      rows: rows.length,
      copy: { seconds: round(copyS, 2), rows_per_s: Math.round(copyRate) },
      import: {
        seconds: round(importS, 2),
        rows_per_s: Math.round(importRate),
        reported_rows_per_s: reported ? Number(reported[1]) : null,
      },
      ratio_to_copy: round(importRate / copyRate, 4),
    };
  } finally {
    await db.close();
    await dropPostgresSchema(databaseUrl, schema).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { rows: { type: "string" } } });
  const url = Deno.env.get("BENCH_DATABASE_URL");
  if (!url) throw new Error("BENCH_DATABASE_URL is not set");
  const result = await runImportBench(url, { rows: Number(values.rows ?? 300_000) });
  console.log(JSON.stringify(result, null, 2));
}
