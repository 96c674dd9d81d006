/**
 * The served OpenAPI document is valid (issue #18, item 8): OpenAPI 3.1's own schema
 * through @apidevtools/swagger-parser, and Redocly's recommended ruleset with zero
 * errors; every operation has a unique operationId.
 */
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { loadAppConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { composeApp } from "../../runtime/compose_app.ts";
import { buildOpenApi, deriveOperationId, type Operation } from "../../handlers/openapi.ts";
import { promptExtension } from "../../handlers/prompt.ts";
import { SLACK_OPERATION } from "../../handlers/slack_command.ts";
import { pgliteDatabase } from "../support/databases.ts";

async function servedDocument(): Promise<Record<string, unknown>> {
  const db = await pgliteDatabase();
  try {
    const { app } = composeApp({
      config: loadAppConfig({ API_KEY: "tenant-a:openapi-key-0001" }),
      store: new SqlMetricsStore(db.driver),
      journal: new IngestJournal(db.driver),
      logger: silentLogger,
      telemetry: new Registry(),
      clock: () => new Date(),
      // Every route family the container can serve, the bot's included.
      extensions: () => [promptExtension(), { register() {}, operations: [SLACK_OPERATION] }],
    });
    const response = await app.request("/openapi.json");
    assert.equal(response.status, 200);
    return await response.json();
  } finally {
    await db.dispose();
  }
}

Deno.test("GET /openapi.json is valid OpenAPI 3.1 (swagger-parser and Redocly)", async (t) => {
  const document = await servedDocument();

  await t.step("swagger-parser validates it against the OpenAPI 3.1 schema", async () => {
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  await t.step("Redocly's recommended ruleset reports no errors", async () => {
    const problems = await lintFromString({
      source: JSON.stringify(document),
      absoluteRef: "openapi.json",
      config: await createConfig({ extends: ["recommended"] }),
    });
    const errors = problems.filter((problem) => problem.severity === "error");
    const warnings = problems.filter((problem) => problem.severity === "warn");
    console.log(
      `redocly: ${errors.length} errors, ${warnings.length} warnings (${
        [...new Set(warnings.map((w) => w.ruleId))].join(", ")
      })`,
    );
    assert.deepEqual(
      errors.map((error) => `${error.ruleId}: ${error.message} at ${error.location[0]?.pointer}`),
      [],
    );
    assert.equal(
      problems.filter((problem) => problem.ruleId === "operation-operationId").length,
      0,
      "every operation has an operationId",
    );
  });

  await t.step("operationIds are present, unique and camelCase", () => {
    const ids: string[] = [];
    for (const item of Object.values(document.paths as Record<string, Record<string, unknown>>)) {
      for (const operation of Object.values(item) as { operationId?: string }[]) {
        assert.ok(operation.operationId, "an operationId");
        assert.match(operation.operationId, /^[a-z][A-Za-z0-9]*$/);
        ids.push(operation.operationId);
      }
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes("getCampaignInsights"));
    assert.ok(ids.includes("postMetrics") && ids.includes("getMetrics"));
  });

  await t.step("no description on a Media Type object; servers is not empty", () => {
    const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
    for (const item of Object.values(paths)) {
      for (const operation of Object.values(item)) {
        const content = (operation.requestBody as { content?: Record<string, object> })?.content;
        for (const media of Object.values(content ?? {})) {
          assert.deepEqual(Object.keys(media), ["schema"]);
        }
      }
    }
    assert.ok((document.servers as unknown[]).length > 0);
  });
});

Deno.test("operationIds: derived from method and path, a clash is refused", () => {
  assert.equal(deriveOperationId("get", "/campaign/{id}/insights"), "getCampaignInsights");
  assert.equal(deriveOperationId("post", "/ingest/rows"), "postIngestRows");
  assert.equal(deriveOperationId("post", "/slack/command"), "postSlackCommand");
  const operation: Operation = { method: "get", path: "/a", summary: "a", tags: [] };
  assert.throws(
    () => buildOpenApi([operation, { ...operation, path: "/{x}/a" }], "1"),
    /operationId/,
  );
});
