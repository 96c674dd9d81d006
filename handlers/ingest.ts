/**
 * Ingestion over HTTP: `POST /ingest/rows` (push rows, scope metrics:write) and
 * `GET /sources` (each source's last success, last error, rows and lag).
 *
 * `POST /metrics` is the push's former route, answered for one more release with a
 * `Deprecation` header pointing at its successor (RFC 9745): `GET /metrics` is Prometheus.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { redact } from "../lib/log.ts";
import { RowRejectionSchema } from "../lib/schema.ts";
import { MetricRowSchema } from "../lib/schema.ts";
import type { SourceStatus } from "../lib/store/ingest_journal.ts";
import { requireScope } from "./auth.ts";
import type { AppEnv } from "./context.ts";
import type { AppExtension } from "./app_factory.ts";
import { BadRequest } from "./params.ts";
import { JSON_TYPE, NDJSON_TYPES, parsePushBody, pushFormat } from "./push_body.ts";
import type { Operation } from "./openapi.ts";

/** What the push endpoint needs from the ingestion processor. */
export interface RowSink {
  process(input: { tenantId: string; source: string; rows: readonly unknown[] }): Promise<{
    accepted: number;
    rejected: z.infer<typeof RowRejectionSchema>[];
  }>;
}

export interface IngestHttpDeps {
  sink: RowSink;
  sourceStatus: (tenantId: string) => Promise<SourceStatus[]>;
  /** Sources this deployment runs (shown even before their first run). */
  configuredSources: () => string[];
  clock: () => Date;
}

export const PushResponse = z.object({
  accepted: z.number().int(),
  rejected: z.array(RowRejectionSchema),
});

export const SourcesResponse = z.object({
  sources: z.array(z.object({
    source: z.string(),
    configured: z.boolean(),
    accounts: z.number(),
    last_success_at: z.string().nullable(),
    last_error_at: z.string().nullable(),
    last_error: z.string().nullable(),
    running: z.number(),
    rows_accepted: z.number(),
    rows_rejected: z.number(),
    lag_seconds: z.number().nullable(),
  })),
});

/** The push route. */
export const PUSH_ROUTE = "/ingest/rows";
/** The push's former route, kept for one release. */
export const DEPRECATED_PUSH_ROUTE = "/metrics";

export function ingestHttp(deps: IngestHttpDeps): AppExtension {
  return {
    register(app: Hono<AppEnv>) {
      const push = async (c: Context<AppEnv>) => {
        const format = pushFormat(c.req.header("Content-Type"));
        if (!format) {
          return c.json({
            error: `Content-Type must be ${JSON_TYPE} or NDJSON (${NDJSON_TYPES.join(", ")})`,
            field: "Content-Type",
          }, 415);
        }
        const { rows, lineErrors } = parsePushBody(await c.req.text(), format);
        if (rows.length === 0) throw new BadRequest("body", "no rows in the body");
        const badLines = new Set(lineErrors.map((e) => e.index));
        const sendable = rows.map((row, index) => (badLines.has(index) ? null : row));
        const result = await deps.sink.process({
          tenantId: c.get("principal").tenant,
          source: "push",
          rows: sendable,
        });
        const rejected = [
          ...lineErrors.map(({ index, error }) => ({ index, field: "row", error })),
          ...result.rejected.filter((reject) => !badLines.has(reject.index)),
        ].sort((a, b) => a.index - b.index);
        return c.json({ accepted: result.accepted, rejected });
      };
      app.post(PUSH_ROUTE, requireScope<AppEnv>("metrics:write"), push);
      app.post(
        DEPRECATED_PUSH_ROUTE,
        async (c, next) => {
          await next();
          c.header("Deprecation", "true");
          c.header("Link", `<${PUSH_ROUTE}>; rel="successor-version"`);
        },
        requireScope<AppEnv>("metrics:write"),
        push,
      );

      app.get("/sources", requireScope<AppEnv>("insights:read"), async (c) => {
        const tenant = c.get("principal").tenant;
        const statuses = await deps.sourceStatus(tenant);
        const now = deps.clock().getTime();
        const names = [...new Set([...deps.configuredSources(), ...statuses.map((s) => s.source)])]
          .sort();
        const sources = names.map((name) => {
          const status = statuses.find((s) => s.source === name);
          const success = status?.last_success_at ?? null;
          return {
            source: name,
            configured: deps.configuredSources().includes(name),
            accounts: status?.accounts ?? 0,
            last_success_at: success?.toISOString() ?? null,
            last_error_at: status?.last_error_at?.toISOString() ?? null,
            last_error: status?.last_error ? String(redact(status.last_error)) : null,
            running: status?.running ?? 0,
            rows_accepted: status?.rows_accepted ?? 0,
            rows_rejected: status?.rows_rejected ?? 0,
            lag_seconds: success ? Math.max(0, Math.round((now - success.getTime()) / 1000)) : null,
          };
        });
        return c.json({ sources });
      });
    },
    operations: INGEST_OPERATIONS,
  };
}

const PUSH_OPERATION: Operation = {
  method: "post",
  path: PUSH_ROUTE,
  summary: "Push rows in the unified schema (idempotent upsert); invalid rows are reported",
  tags: ["ingestion"],
  body: [
    { contentType: "application/json", schema: z.array(MetricRowSchema) },
    {
      contentType: "application/x-ndjson",
      schema: z.string().describe("one row (JSON object) per line"),
    },
  ],
  response: PushResponse,
  scope: "metrics:write",
  statuses: [400, 413, 415, 503],
};

const INGEST_OPERATIONS: readonly Operation[] = [
  PUSH_OPERATION,
  {
    ...PUSH_OPERATION,
    path: DEPRECATED_PUSH_ROUTE,
    summary: `Deprecated: the former route of POST ${PUSH_ROUTE}, answered for one release`,
    deprecated: true,
  },
  {
    method: "get",
    path: "/sources",
    summary: "Per source: last success, last error, rows and lag",
    tags: ["ingestion"],
    response: SourcesResponse,
    scope: "insights:read",
  },
];
