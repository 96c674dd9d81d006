/**
 * `deno task import FILE [--tenant T] [--source NAME]`: loads a CSV file (a header row
 * naming the unified row's fields) or an NDJSON file (one row object a line) through
 * the same path as every other source (ingest/processor.ts: validation, dead letters,
 * upsert, cache version bump), in batches.
 *
 * Progress (rows, rows/s, rejected) is shown only when stdout is a terminal; a summary
 * line is always printed. Re-running the same file is idempotent (every row is an
 * upsert keyed by its tenant, platform, account, campaign and hour), so an interrupted
 * import is resumed by running it again.
 */
import { parseArgs } from "node:util";
import { ConfigError, type Env } from "../lib/config.ts";
import { TenantIdSchema } from "../lib/schema.ts";
import { loadPipelineSettings } from "./settings.ts";
import { buildServices } from "./services.ts";

/**
 * Rows handed to the processor at a time: one staged statement of the store's upsert
 * (ROWS_PER_STATEMENT). Larger batches touch each rollup row once for more rows: a
 * 20,000-row batch of a campaign-ordered export changed ~10,000 platform-hour rows.
 */
export const IMPORT_BATCH_ROWS = 50_000;

export interface ImportSummary {
  file: string;
  rows: number;
  accepted: number;
  rejected: number;
  seconds: number;
  rowsPerSecond: number;
}

/** Lines of a text stream (LF or CRLF), without their line breaks. */
async function* lines(stream: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let start = 0;
    let newline;
    while ((newline = buffer.indexOf("\n", start)) >= 0) {
      const end = newline > start && buffer[newline - 1] === "\r" ? newline - 1 : newline;
      yield buffer.slice(start, end);
      start = newline + 1;
    }
    buffer = buffer.slice(start);
  }
  if (buffer.length) yield buffer.endsWith("\r") ? buffer.slice(0, -1) : buffer;
}

/**
 * One CSV record's fields (RFC 4180: quoted fields may hold commas, doubled quotes and
 * line breaks); undefined while a quoted field is still open at the end of `text`.
 */
export function csvFields(text: string): string[] | undefined {
  const fields: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
    i++;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/**
 * The file's rows as the processor takes them: objects for CSV records and JSON lines;
 * a line that is not a JSON object, or a record with the wrong number of fields, is
 * passed on as its text so that validation rejects and dead-letters it like any row.
 */
export async function* fileRows(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  format: "csv" | "ndjson",
): AsyncGenerator<unknown> {
  let header: string[] | undefined;
  let pending = "";
  for await (const line of lines(stream)) {
    if (format === "ndjson") {
      if (!line.trim()) continue;
      try {
        yield JSON.parse(line);
      } catch {
        yield line;
      }
      continue;
    }
    const text = pending ? `${pending}\n${line}` : line;
    const fields = csvFields(text);
    if (!fields) {
      pending = text;
      continue;
    }
    pending = "";
    if (!header) {
      header = fields.map((name) => name.trim());
      continue;
    }
    if (fields.length === 1 && fields[0] === "") continue;
    if (fields.length !== header.length) {
      yield text;
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((name, index) => {
      // An empty cell is an absent field (optional fields take their defaults).
      if (fields[index] !== "") row[name] = fields[index];
    });
    yield row;
  }
  if (pending) yield pending;
}

function formatOf(path: string, first: string): "csv" | "ndjson" {
  if (/\.(ndjson|jsonl)$/i.test(path)) return "ndjson";
  if (/\.csv$/i.test(path)) return "csv";
  return first.trimStart().startsWith("{") ? "ndjson" : "csv";
}

async function firstLine(path: string): Promise<string> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(4096);
  const read = await file.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\n")[0];
}

export async function importFile(
  env: Env,
  args: string[],
  out: { write(text: string): void; terminal: boolean } = {
    write: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
    terminal: Deno.stdout.isTerminal(),
  },
  /** Rows a batch (tests use small batches to have several in one small file). */
  batchRows = IMPORT_BATCH_ROWS,
): Promise<ImportSummary> {
  const { values, positionals } = parseArgs({
    args,
    options: { tenant: { type: "string" }, source: { type: "string" } },
    allowPositionals: true,
  });
  const usage = (problem: string) => new ConfigError({ problems: [problem], context: "import" });
  if (positionals.length !== 1) throw usage("expected one FILE (CSV with a header row, or NDJSON)");
  const path = positionals[0];
  const settings = loadPipelineSettings(env);
  const tenant = TenantIdSchema.safeParse(values.tenant ?? settings.ingest.INGEST_TENANT);
  if (!tenant.success) throw usage(`--tenant: ${tenant.error.issues[0].message}`);
  const source = values.source ?? "import";
  if (!/^[a-z0-9._-]{1,64}$/i.test(source)) throw usage("--source: letters, digits, . _ - only");
  const format = formatOf(path, await firstLine(path));

  const services = await buildServices(settings);
  const started = performance.now();
  const summary: ImportSummary = {
    file: path,
    rows: 0,
    accepted: 0,
    rejected: 0,
    seconds: 0,
    rowsPerSecond: 0,
  };
  const progress = () => {
    const seconds = (performance.now() - started) / 1000;
    summary.seconds = Math.round(seconds * 100) / 100;
    summary.rowsPerSecond = seconds > 0 ? Math.round(summary.rows / seconds) : 0;
  };
  // The batch being written, if any (see `send` below).
  let writing: Promise<void> | undefined;
  try {
    using file = await Deno.open(path);
    let batch: unknown[] = [];
    const flush = async (rows: unknown[]) => {
      const result = await services.processor.process({ tenantId: tenant.data, source, rows });
      summary.rows += rows.length;
      summary.accepted += result.accepted;
      summary.rejected += result.rejected.length;
      progress();
      if (out.terminal) {
        out.write(
          `\r${summary.rows.toLocaleString("en-US")} rows, ${
            summary.rowsPerSecond.toLocaleString("en-US")
          } rows/s, ${summary.rejected.toLocaleString("en-US")} rejected`,
        );
      }
    };
    // One batch in the database at a time, in file order (a later row of the same key
    // wins), while the next one is read and parsed: the file's parsing and the
    // database's work overlap instead of taking turns.
    const send = async () => {
      const rows = batch;
      batch = [];
      if (writing) await writing;
      writing = flush(rows);
      writing.catch(() => {}); // awaited before the next batch or at the end
    };
    for await (const row of fileRows(file.readable, format)) {
      batch.push(row);
      if (batch.length >= batchRows) await send();
    }
    if (batch.length) await send();
    if (writing) await writing;
  } finally {
    // A failure while reading must not close the pool under a batch still being written.
    await writing?.catch(() => {});
    await services.close();
  }
  progress();
  out.write(
    `${out.terminal ? "\n" : ""}imported ${path}: ${summary.rows} rows, ${summary.accepted} ` +
      `accepted, ${summary.rejected} rejected (dead letters), ${summary.seconds} s, ` +
      `${summary.rowsPerSecond} rows/s\n`,
  );
  return summary;
}
