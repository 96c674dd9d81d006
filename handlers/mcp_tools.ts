/**
 * The MCP server's tools and resources. Every tool is the REST route of the same name
 * asked through `ApiRequest` with the caller's own credentials: in process (`/mcp`, and
 * stdio over a local store) or over HTTP (stdio forwarding to a running API). So auth,
 * tenancy, validation, caching and every number are the REST API's own, by construction.
 */
// The SDK's export map names no types for `*.js` subpaths: point the checker at them.
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { z } from "zod";
import { CampaignInsightsSchema, CampaignsPageSchema, InsightsSchema } from "../lib/api.ts";
import { KPI_DEFINITIONS, KPI_RULES, MEASURE_DEFINITIONS } from "../lib/kpi.ts";
import {
  CurrencySchema,
  GranularitySchema,
  MetricNameSchema,
  PLATFORM_ALIASES,
  PLATFORMS,
} from "../lib/schema.ts";
import { CampaignSortSchema } from "../lib/store/metrics_store.ts";
import { SourcesResponse } from "./ingest.ts";
import {
  CampaignIdParam,
  DateOrInstantParam,
  GROUP_BYS,
  PlatformListParam,
  TimeZoneParam,
} from "./params.ts";
import { MAX_PROMPT_CHARACTERS, PromptResponseSchema } from "./prompt.ts";
import { ConversationIdSchema } from "../lib/bot/conversation.ts";

/** One request to the REST API as the caller (path with query string, relative to the root). */
export type ApiRequest = (
  path: string,
  init?: { method?: "GET" | "POST"; body?: string },
) => Promise<Response>;

/** No tool answer carries more rows than this in any list; the answer says when it was cut. */
export const MAX_TOOL_ROWS = 500;

export const SERVER_NAME = "campaign-analytics";

export const KPI_RESOURCE_URI = "campaign-analytics://kpi-definitions";
export const PLATFORMS_RESOURCE_URI = "campaign-analytics://platforms";

// ---------------------------------------------------------------------------------
// What a model needs to read the numbers, generated from the KPI module
// ---------------------------------------------------------------------------------

function formulaOf(kpi: keyof typeof KPI_DEFINITIONS): string {
  const { numerator, denominator, scale } = KPI_DEFINITIONS[kpi];
  return `${numerator} / ${denominator}${scale === 1 ? "" : ` * ${scale}`}`;
}

const METRICS_TEXT = "Measures: " +
  Object.entries(MEASURE_DEFINITIONS).map(([name, m]) => `${name} (${m.description})`).join(
    ", ",
  ) + ". KPIs: " +
  (Object.keys(KPI_DEFINITIONS) as (keyof typeof KPI_DEFINITIONS)[]).map((kpi) =>
    `${kpi} = ${formulaOf(kpi)} (${KPI_DEFINITIONS[kpi].name})`
  ).join("; ") + ". " + KPI_RULES.join(" ");

const DATES_TEXT = "Dates: from and to are calendar days YYYY-MM-DD, both inclusive, counted " +
  "as whole days in the time zone tz (an IANA name; default the server's, echoed as " +
  "time_zone in the answer). An RFC 3339 instant (2024-04-01T00:00:00Z) is used as given, " +
  "and then to is exclusive. Omit both for all time; from must be before to.";

const TRUNCATION_TEXT = `Lists are cut at ${MAX_TOOL_ROWS} rows; a cut answer says so in ` +
  "`truncated` (path, total, returned).";

export const KPI_DEFINITIONS_DOCUMENT = {
  measures: MEASURE_DEFINITIONS,
  kpis: Object.fromEntries(
    (Object.keys(KPI_DEFINITIONS) as (keyof typeof KPI_DEFINITIONS)[]).map((kpi) => [
      kpi,
      {
        ...KPI_DEFINITIONS[kpi],
        formula: formulaOf(kpi),
        null_when: `${KPI_DEFINITIONS[kpi].denominator} is 0${
          KPI_DEFINITIONS[kpi].money ? ", or the rows span several currencies" : ""
        }`,
      },
    ]),
  ),
  rules: KPI_RULES,
};

export const PLATFORMS_DOCUMENT = {
  platforms: PLATFORMS.map((platform) => ({
    platform,
    aliases: Object.entries(PLATFORM_ALIASES).filter(([alias, target]) =>
      target === platform && alias !== platform
    ).map(([alias]) => alias),
  })),
  note: "Every platform argument accepts the canonical name or an alias, case-insensitively; " +
    "several are written comma-separated (google,meta).",
};

// ---------------------------------------------------------------------------------
// Inputs: the REST parameter schemas, with words for a model
// ---------------------------------------------------------------------------------

const platformInput = PlatformListParam.optional().describe(
  `Only these platforms: ${PLATFORMS.join(", ")} or an alias (facebook, instagram → meta; ` +
    "adwords, youtube → google); several comma-separated. Omit for all platforms.",
);
const fromInput = DateOrInstantParam.optional().describe(
  "First day, YYYY-MM-DD (inclusive), or an RFC 3339 instant",
);
const toInput = DateOrInstantParam.optional().describe(
  "Last day, YYYY-MM-DD (inclusive), or an RFC 3339 instant (exclusive)",
);
const tzInput = TimeZoneParam.optional().describe(
  "IANA time zone for day boundaries and buckets, e.g. Europe/Paris (default: the server's)",
);
// The REST routes' `currency`: report money in this currency, converted at daily rates.
const currencyInput = CurrencySchema.optional().describe(
  "Report money in this ISO 4217 currency (e.g. USD), converted day by day at the tenant's " +
    "stored exchange rates (the answer's fx object says which). Without it, money in several " +
    "currencies is never added: currency is null and by_currency lists each one. A needed rate " +
    "that is missing is an error naming the pair and day.",
);

export const ListCampaignsInput = z.object({
  platform: platformInput,
  q: z.string().trim().max(200).optional().describe("Words the campaign name contains"),
  sort: CampaignSortSchema.optional().describe(
    "latest: most recently started first (default); spend: highest lifetime cost first",
  ),
  limit: z.number().int().min(1).max(100).optional().describe("Campaigns per page, 1-100 (20)"),
  cursor: z.string().max(512).optional().describe("next_cursor of the previous page"),
});

export const CampaignInsightsInput = z.object({
  campaign_id: CampaignIdParam.describe("The campaign id (campaign_id from list_campaigns)"),
  from: fromInput,
  to: toInput,
  platform: platformInput,
  granularity: GranularitySchema.optional().describe(
    "Add a series with one point per day, week (ISO, Monday) or month",
  ),
  tz: tzInput,
  currency: currencyInput,
});

export const QueryInsightsInput = z.object({
  from: fromInput,
  to: toInput,
  platform: platformInput,
  campaign_id: CampaignIdParam.optional().describe("Only this campaign"),
  group_by: z.enum(GROUP_BYS).optional().describe(
    "Split the totals into groups: per platform, per campaign, or per day/week/month",
  ),
  order_by: MetricNameSchema.optional().describe(
    "Rank platform or campaign groups by this metric (default cost); needs group_by",
  ),
  order: z.enum(["asc", "desc"]).optional().describe("Ranking order (default desc)"),
  limit: z.number().int().min(1).max(MAX_TOOL_ROWS).optional().describe(
    `Ranked groups to return, 1-${MAX_TOOL_ROWS} (10)`,
  ),
  tz: tzInput,
  currency: currencyInput,
});

// ---------------------------------------------------------------------------------
// Outputs: the REST answers, plus a note when a list was cut
// ---------------------------------------------------------------------------------

export const TruncationSchema = z.object({
  path: z.string().describe("where the list is in the answer, e.g. series"),
  total: z.number().int(),
  returned: z.number().int(),
});

const truncatable = <T extends z.ZodObject>(schema: T) =>
  schema.extend({ truncated: z.array(TruncationSchema).optional() });

export const ListCampaignsOutput = truncatable(CampaignsPageSchema);
export const CampaignInsightsOutput = truncatable(CampaignInsightsSchema);
export const QueryInsightsOutput = truncatable(InsightsSchema);
export const ListSourcesOutput = truncatable(SourcesResponse);

/**
 * The `ask` tool's schemas, built on first use: handlers/prompt.ts imports the app factory,
 * which imports this module, so its exports are not initialized yet while this one loads.
 */
function buildAskSchemas() {
  return {
    input: z.object({
      prompt: z.string().min(1).max(MAX_PROMPT_CHARACTERS).describe(
        "A question in English, e.g. 'CTR of the Spring Sale campaign on Google last week'",
      ),
      conversation_id: ConversationIdSchema.optional(),
    }),
    output: truncatable(PromptResponseSchema),
  };
}
let askSchemas: ReturnType<typeof buildAskSchemas> | undefined;
const askToolSchemas = () => askSchemas ??= buildAskSchemas();

// ---------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------

type Cut = z.infer<typeof TruncationSchema>;

/**
 * Where the answer has lists longer than MAX_TOOL_ROWS. Copies nothing and builds a path
 * only for what can hold a list: answers have thousands of numbers and few lists.
 */
function longLists(value: unknown, path: string, cuts: Cut[]): Cut[] {
  if (Array.isArray(value)) {
    if (value.length > MAX_TOOL_ROWS) {
      cuts.push({ path: path || "(root)", total: value.length, returned: MAX_TOOL_ROWS });
    }
    for (let i = 0; i < Math.min(value.length, MAX_TOOL_ROWS); i++) {
      if (value[i] !== null && typeof value[i] === "object") {
        longLists(value[i], `${path}[${i}]`, cuts);
      }
    }
  } else if (value !== null && typeof value === "object") {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== null && typeof item === "object") {
        longLists(item, path ? `${path}.${key}` : key, cuts);
      }
    }
  }
  return cuts;
}

function cutLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.slice(0, MAX_TOOL_ROWS).map(cutLists);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutLists(item)]));
  }
  return value;
}

/**
 * Cuts every list longer than MAX_TOOL_ROWS, anywhere in the answer, and says where. An
 * answer within the cap is returned as it is (the common case costs one walk, no copy).
 */
export function capRows<T>(value: T): { value: T; cuts: Cut[] } {
  const cuts = longLists(value, "", []);
  return { value: cuts.length ? cutLists(value) as T : value, cuts };
}

function success(body: Record<string, unknown>, text?: string): CallToolResult {
  const { value: capped, cuts } = capRows(body);
  const structured = cuts.length ? { ...capped, truncated: cuts } : capped;
  const content: CallToolResult["content"] = [];
  if (cuts.length) {
    content.push({
      type: "text",
      text: `Truncated: ${
        cuts.map((cut) => `${cut.path} has ${cut.total} rows, the first ${cut.returned} are shown`)
          .join("; ")
      }. Narrow the date range or filters for the rest.`,
    });
  }
  content.push({ type: "text", text: text ?? JSON.stringify(structured) });
  return { content, structuredContent: structured };
}

function failure(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

const ErrorBody = z.object({
  error: z.string(),
  field: z.string().optional(),
  request_id: z.string().optional(),
}).loose();

/** A REST error answer in words for the model; the field at fault is always named. */
async function failureFrom(response: Response): Promise<CallToolResult> {
  const parsed = ErrorBody.safeParse(await response.json().catch(() => null));
  const body = parsed.success ? parsed.data : undefined;
  const message = body?.error ?? `the API answered HTTP ${response.status}`;
  switch (response.status) {
    case 400:
      return failure(`Invalid argument "${body?.field ?? "arguments"}": ${message}`);
    case 404:
      return failure(
        body?.field ? `Not found: ${message}` : "This server does not offer this tool's data",
      );
    case 401:
    case 403:
      return failure(`Not allowed: ${message}`);
    case 503:
      return failure(`Temporarily unavailable: ${message}`);
    default:
      return failure(
        `The API failed (HTTP ${response.status})${
          body?.request_id ? `, request id ${body.request_id}` : ""
        }: ${message}`,
      );
  }
}

/** Tool arguments as the REST route's query string (lists comma-separated). */
export function queryString(args: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function callApi(
  api: ApiRequest,
  path: string,
  init?: Parameters<ApiRequest>[1],
): Promise<CallToolResult> {
  const response = await api(path, init);
  if (!response.ok) return await failureFrom(response);
  return success(await response.json());
}

// ---------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------

export interface McpServerOptions {
  version: string;
}

/**
 * The SDK builds a JSON Schema validator (Ajv) per server unless given one; a server is
 * made per HTTP request, and this one never validates anything with it (no elicitation),
 * so one instance is shared.
 */
const JSON_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

/** Tools only read: every one is safe to call repeatedly and changes nothing. */
const READ_ONLY = { readOnlyHint: true, idempotentHint: true, openWorldHint: false } as const;

export function createMcpServer(api: ApiRequest, options: McpServerOptions): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: options.version }, {
    instructions: "Campaign analytics for the caller's tenant only: ad campaigns on " +
      `${PLATFORMS.join(", ")}. Start with list_campaigns to find ids, then ` +
      "campaign_insights or query_insights for numbers; ask answers a question in words. " +
      `${DATES_TEXT} ${KPI_RULES.join(" ")}`,
    jsonSchemaValidator: JSON_SCHEMA_VALIDATOR,
  });

  server.registerTool("list_campaigns", {
    title: "List campaigns",
    description: "The caller's campaigns with lifetime totals (GET /campaigns): id, name, " +
      "platform, account, status, currency, first and last day seen. Paginated: pass " +
      `next_cursor as cursor for the next page. ${METRICS_TEXT}`,
    inputSchema: ListCampaignsInput,
    outputSchema: ListCampaignsOutput,
    annotations: READ_ONLY,
  }, (args) => callApi(api, `/campaigns${queryString(args)}`));

  server.registerTool(
    "campaign_insights",
    {
      title: "One campaign's KPIs",
      description: "Totals and KPIs of one campaign over a date range (GET " +
        "/campaign/{id}/insights), split by platform, optionally with a day/week/month series. " +
        "A campaign that does not exist for this caller is not found. " +
        `${DATES_TEXT} ${METRICS_TEXT} ${TRUNCATION_TEXT}`,
      inputSchema: CampaignInsightsInput,
      outputSchema: CampaignInsightsOutput,
      annotations: READ_ONLY,
    },
    ({ campaign_id, ...query }) =>
      callApi(api, `/campaign/${encodeURIComponent(campaign_id)}/insights${queryString(query)}`),
  );

  server.registerTool("query_insights", {
    title: "Totals across campaigns",
    description: "Totals and KPIs across the caller's campaigns (GET /insights), optionally " +
      "for one campaign or some platforms, grouped by platform or campaign (ranked by " +
      "order_by) or by day/week/month. " + `${DATES_TEXT} ${METRICS_TEXT} ${TRUNCATION_TEXT}`,
    inputSchema: QueryInsightsInput,
    outputSchema: QueryInsightsOutput,
    annotations: READ_ONLY,
  }, (args) => callApi(api, `/insights${queryString(args)}`));

  server.registerTool("list_sources", {
    title: "Data sources",
    description: "Where the numbers come from (GET /sources): each ingestion source's last " +
      "successful sync, last error, rows accepted and rejected, and lag in seconds. Use it " +
      "to tell how fresh the data is.",
    inputSchema: z.object({}),
    outputSchema: ListSourcesOutput,
    annotations: READ_ONLY,
  }, () => callApi(api, "/sources"));

  server.registerTool("ask", {
    title: "Ask in words",
    description: "Answers a question about the campaigns in words (POST /prompt), e.g. " +
      "'spend on meta last month' or 'top 3 campaigns by ROAS this year'. The reply states " +
      "its period and platforms; structuredContent has the parsed query and the API answers " +
      "the reply was built from. Send the answer's conversation_id back to ask a follow-up " +
      "('and for Google?'). Prefer the other tools when you know the exact arguments.",
    inputSchema: askToolSchemas().input,
    outputSchema: askToolSchemas().output,
    annotations: READ_ONLY,
  }, async ({ prompt, conversation_id }) => {
    const response = await api("/prompt", {
      method: "POST",
      body: JSON.stringify({ prompt, conversation_id }),
    });
    if (!response.ok) return await failureFrom(response);
    const answer = PromptResponseSchema.parse(await response.json());
    return success(answer, answer.reply);
  });

  server.registerResource("kpi-definitions", KPI_RESOURCE_URI, {
    title: "KPI definitions",
    description: "Every measure and KPI: formula, whether it is money, when it is null",
    mimeType: "application/json",
  }, (uri) => ({
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: JSON.stringify(KPI_DEFINITIONS_DOCUMENT, null, 2),
    }],
  }));

  server.registerResource("platforms", PLATFORMS_RESOURCE_URI, {
    title: "Platforms and aliases",
    description: "The ad platforms and the names each platform argument accepts for them",
    mimeType: "application/json",
  }, (uri) => ({
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: JSON.stringify(PLATFORMS_DOCUMENT, null, 2),
    }],
  }));

  return server;
}
