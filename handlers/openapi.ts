/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate the
 * requests (zod's JSON Schema output is the 2020-12 dialect OpenAPI 3.1 uses).
 */
import { z } from "zod";
import { assetUrl } from "./web_assets.ts";

export interface Operation {
  method: "get" | "post";
  path: string;
  /** Stable name for client generators; derived from method and path when omitted. */
  operationId?: string;
  summary: string;
  tags: string[];
  /** Route parameters in `{name}` form with their schemas. */
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** `description` documents the body's schema (OpenAPI has no description per media type). */
  body?: { contentType: string; schema: z.ZodType; description?: string }[];
  response?: z.ZodType;
  responseType?: string;
  /** Scope needed; undefined = public. */
  scope?: string;
  statuses?: number[];
  /** Still answered, but replaced (OpenAPI `deprecated: true`). */
  deprecated?: boolean;
}

const ErrorSchema = z.object({
  error: z.string().describe("what is wrong, in words"),
  field: z.string().optional().describe("the parameter or body field at fault"),
});

const STATUS_TEXT: Record<number, string> = {
  400: "Bad input; `field` names the parameter",
  401: "Missing, malformed, wrong or expired bearer token",
  403: "The token lacks the scope",
  404: "Not found (or not visible to this tenant)",
  413: "Body too large",
  415: "Unsupported Content-Type",
  422: "A needed exchange rate is missing (`field` is currency; `error` names the pair and day), " +
    "or the range needs raw rows that RETENTION_MONTHS dropped (`field` is from; `error` names " +
    "the horizon)",
  503: "A dependency is unavailable; retry later",
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
}

function parameters(operation: Operation) {
  const path = Object.entries(operation.pathParams ?? {}).map(([name, schema]) => ({
    name,
    in: "path",
    required: true,
    schema: jsonSchema(schema, "input"),
  }));
  const query = Object.entries(operation.query?.shape ?? {}).map(([name, schema]) => {
    const field = schema as z.ZodType;
    const optional = field.safeParse(undefined).success;
    const spec = jsonSchema(field, "input");
    return {
      name,
      in: "query",
      required: !optional,
      ...(spec.description ? { description: spec.description } : {}),
      schema: spec,
    };
  });
  return [...path, ...query];
}

/**
 * `get /campaign/{id}/insights` → `getCampaignInsights`: the method, then each literal
 * path segment in camelCase (parameters are implied by the path and left out).
 */
export function deriveOperationId(method: string, path: string): string {
  const words = path.split("/").filter((segment) => segment && !segment.startsWith("{"))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/)).filter(Boolean);
  return method.toLowerCase() +
    words.map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase()).join("");
}

export function buildOpenApi(operations: readonly Operation[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const operation of operations) {
    const operationId = operation.operationId ??
      deriveOperationId(operation.method, operation.path);
    if (operationIds.has(operationId)) {
      throw new Error(`two operations are named ${operationId}: declare an operationId`);
    }
    operationIds.add(operationId);
    const responses: Record<string, unknown> = {
      200: {
        description: "OK",
        content: {
          [operation.responseType ?? "application/json"]: operation.response
            ? { schema: jsonSchema(operation.response, "output") }
            : {},
        },
      },
    };
    const statuses = [...(operation.statuses ?? []), ...(operation.scope ? [401, 403] : [])];
    for (const status of [...new Set(statuses)].sort()) {
      responses[status] = {
        description: STATUS_TEXT[status] ?? "Error",
        content: { "application/json": { schema: jsonSchema(ErrorSchema, "output") } },
      };
    }
    paths[operation.path] ??= {};
    paths[operation.path][operation.method] = {
      operationId,
      summary: operation.summary,
      tags: operation.tags,
      parameters: parameters(operation),
      ...(operation.body
        ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              operation.body.map((body) => [body.contentType, {
                schema: {
                  ...jsonSchema(body.schema, "input"),
                  ...(body.description ? { description: body.description } : {}),
                },
              }]),
            ),
          },
        }
        : {}),
      responses,
      ...(operation.deprecated ? { deprecated: true } : {}),
      security: operation.scope ? [{ bearer: [operation.scope] }] : [],
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Campaign Analytics API",
      version,
      description: "Ad campaign KPIs (CTR, ROAS, CPA, ...) across Meta, Google, LinkedIn and " +
        "TikTok. Money is rounded to the currency's minor unit; ratios are ratios of sums and " +
        "null when their denominator is zero.",
    },
    // Relative to wherever the document is served from: every deployment serves its own.
    servers: [{ url: "/", description: "this deployment" }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key (API_KEY) or a JWT carrying `tenant` and `scope` claims",
        },
      },
    },
    paths,
  };
}

/** An interactive page over /openapi.json (Swagger UI, loaded by the reader's browser). */
export function docsPage(specUrl: string): string {
  // Swagger UI is served by this app (vendored from npm): the page loads nothing from
  // another origin, and its start-up script is a file, not inline.
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Campaign Analytics API</title>
  <link rel="icon" href="${assetUrl("favicon.svg")}">
  <link rel="stylesheet" href="${assetUrl("swagger-ui.css")}">
</head>
<body>
  <div id="docs" data-spec-url="${specUrl.replace(/[&"<>]/g, "")}"></div>
  <script src="${assetUrl("swagger-ui-bundle.js")}"></script>
  <script src="${assetUrl("docs.js")}"></script>
</body>
</html>`;
}
