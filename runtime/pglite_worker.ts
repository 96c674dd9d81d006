/**
 * The embedded database's own thread: a Deno Worker that owns one PGlite instance and
 * answers the messages of `pglite_worker_driver.ts` (open, query, copy, begin, end, close).
 * PGlite is WebAssembly that runs every statement to completion on the thread that
 * calls it, so keeping it here leaves the HTTP server's thread free while a backfill
 * or a slow query runs.
 *
 * A transaction is one `db.transaction()` held open until its `end` message: PGlite
 * holds its transaction mutex meanwhile, so queries outside it wait, exactly as they
 * do with the in-thread driver.
 */
/// <reference lib="deno.worker" />
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { pgliteCopyFrom } from "../lib/store/driver.ts";
import type { WorkerReply, WorkerRequest } from "./pglite_worker_protocol.ts";

let db: PGlite | undefined;

/** Messages for an open transaction, delivered in order. */
class Inbox {
  #items: WorkerRequest[] = [];
  #waiting: ((request: WorkerRequest) => void) | undefined;
  push(request: WorkerRequest): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting(request);
    } else this.#items.push(request);
  }
  next(): Promise<WorkerRequest> {
    const item = this.#items.shift();
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => (this.#waiting = resolve));
  }
}

const transactions = new Map<number, Inbox>();
const ROLLBACK = Symbol("rollback");

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

/** An error as plain data: structured cloning drops `code`, `detail` and the rest. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === "function" || typeof value === "object") continue;
    out[key] = value;
  }
  return out;
}

async function runQuery(
  runner: PGlite | Transaction,
  request: Extract<WorkerRequest, { op: "query" }>,
): Promise<void> {
  try {
    const result = await runner.query(request.text, request.params as unknown[]);
    reply({ id: request.id, rows: result.rows });
  } catch (error) {
    reply({ id: request.id, error: describe(error) });
  }
}

async function runCopy(
  runner: PGlite | Transaction,
  request: Extract<WorkerRequest, { op: "copy" }>,
): Promise<void> {
  try {
    await pgliteCopyFrom(runner, request.table, request.columns, request.rows);
    reply({ id: request.id, rows: [] });
  } catch (error) {
    reply({ id: request.id, error: describe(error) });
  }
}

function begin(request: Extract<WorkerRequest, { op: "begin" }>, engine: PGlite): void {
  const inbox = new Inbox();
  transactions.set(request.tx, inbox);
  let endId = request.id;
  engine.transaction(async (tx) => {
    reply({ id: request.id, rows: [] });
    for (;;) {
      const next = await inbox.next();
      if (next.op === "end") {
        endId = next.id;
        if (!next.commit) throw ROLLBACK;
        return;
      }
      if (next.op === "query") await runQuery(tx, next);
      if (next.op === "copy") await runCopy(tx, next);
    }
  }).then(
    () => reply({ id: endId, rows: [] }),
    (error) =>
      reply(error === ROLLBACK ? { id: endId, rows: [] } : { id: endId, error: describe(error) }),
  ).finally(() => transactions.delete(request.tx));
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if ("tx" in request && request.tx !== undefined && request.op !== "begin") {
    const inbox = transactions.get(request.tx);
    if (inbox) return inbox.push(request);
    return reply({ id: request.id, error: { message: `no open transaction ${request.tx}` } });
  }
  try {
    switch (request.op) {
      case "open":
        db = await PGlite.create(request.path);
        return reply({ id: request.id, rows: [] });
      case "query":
        if (!db) throw new Error("the embedded database is not open");
        return await runQuery(db, request);
      case "copy":
        if (!db) throw new Error("the embedded database is not open");
        return await runCopy(db, request);
      case "begin":
        if (!db) throw new Error("the embedded database is not open");
        return begin(request, db);
      case "close":
        if (db && !db.closed) await db.close();
        return reply({ id: request.id, rows: [] });
    }
  } catch (error) {
    reply({ id: request.id, error: describe(error) });
  }
};
