/**
 * Storing rates: JSON validation, ECB-layout CSV (N/A cells, a malformed line rejected
 * with its line number while the rest is stored), replacement of an old value, and
 * the stored rates as GET /fx-rates lists them; on PGlite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { ENGINES } from "../support/databases.ts";
import { auth, KEY_A, testApp } from "../support/test_app.ts";
import { SqlFxStore } from "../../lib/store/fx_store.ts";
import { fxRatesHttp } from "../../handlers/fx_rates.ts";
import { parseEcbCsv, validateRates } from "../../lib/fx/rates.ts";

const CSV = [
  "Date,USD,JPY,GBP,CYP,",
  "2024-04-05,1.0850,164.81,0.85500,N/A,",
  "2024-04-04,1.08x,163.99,0.8571,N/A,",
  "2024-04-03,1.0800,N/A,N/A,N/A,",
  "2024-13-01,1.0800,N/A,N/A,N/A,",
  "",
].join("\n");

Deno.test("ECB CSV: N/A skipped, a bad line rejected with its line number, unknown columns reported", () => {
  const { rates, rejected } = parseEcbCsv(CSV);
  assert.deepEqual(rates, [
    { day: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0850" },
    { day: "2024-04-05", base: "EUR", quote: "JPY", rate: "164.81" },
    { day: "2024-04-05", base: "EUR", quote: "GBP", rate: "0.85500" },
    { day: "2024-04-03", base: "EUR", quote: "USD", rate: "1.0800" },
  ]);
  assert.deepEqual(rejected.map(({ index, field }) => [index, field]), [
    [1, "CYP"],
    [3, "USD"],
    [5, "Date"],
  ]);
  assert.match(rejected[1].error, /1\.08x/);
});

Deno.test("JSON rates: positive finite decimals, real ISO 4217 codes, distinct pair", () => {
  const { rates, rejected } = validateRates([
    { date: "2024-04-05", base: "eur", quote: "USD", rate: 1.0731 },
    { date: "2024-04-05", base: "EUR", quote: "USD", rate: "0" },
    { date: "2024-04-05", base: "EUR", quote: "USD", rate: "-1.2" },
    { date: "2024-04-05", base: "EUR", quote: "ABC", rate: "1.2" },
    { date: "2024-02-30", base: "EUR", quote: "USD", rate: "1.2" },
    { date: "2024-04-05", base: "EUR", quote: "EUR", rate: "1" },
    { date: "2024-04-05", base: "EUR", quote: "USD", rate: "Infinity" },
    "not an object",
  ]);
  assert.deepEqual(rates, [{ day: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0731" }]);
  assert.deepEqual(rejected.map(({ index, field }) => [index, field]), [
    [1, "rate"],
    [2, "rate"],
    [3, "quote"],
    [4, "date"],
    [5, "quote"],
    [6, "rate"],
    [7, "row"],
  ]);
});

for (const engine of ENGINES) {
  Deno.test({
    name: `POST /fx-rates and GET /fx-rates on ${engine.name}`,
    ignore: engine.missing,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await engine.open();
      const fx = new SqlFxStore(db.driver);
      const bumped: string[] = [];
      const { app } = await testApp({
        db,
        overrides: { fx },
        extensions: [
          fxRatesHttp({ fx, invalidate: (tenant) => (bumped.push(tenant), Promise.resolve()) }),
        ],
      });
      const request = async (method: string, path: string, body?: string, type?: string) => {
        const response = await app.request(path, {
          method,
          headers: { ...auth(KEY_A), ...(type ? { "Content-Type": type } : {}) },
          body,
        });
        return { status: response.status, body: await response.json() };
      };
      try {
        await t.step(
          "CSV: the good lines stored, the malformed one rejected by line number",
          async () => {
            const { status, body } = await request("POST", "/fx-rates", CSV, "text/csv");
            assert.equal(status, 200);
            assert.equal(body.accepted, 4);
            assert.deepEqual(body.rejected.map((r: { index: number }) => r.index), [1, 3, 5]);
            assert.deepEqual(bumped, ["tenant-a"]);
            const listed = await request("GET", "/fx-rates?base=EUR");
            assert.deepEqual(
              listed.body.rates.map((
                r: Record<string, string>,
              ) => [r.date, r.quote, r.rate, r.source]),
              [
                ["2024-04-03", "USD", "1.0800", "csv"],
                ["2024-04-05", "GBP", "0.85500", "csv"],
                ["2024-04-05", "JPY", "164.81", "csv"],
                ["2024-04-05", "USD", "1.0850", "csv"],
              ],
            );
          },
        );

        await t.step("a new value for the same day and pair replaces the old one", async () => {
          const { body } = await request(
            "POST",
            "/fx-rates",
            JSON.stringify([
              { date: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0900" },
              { date: "2024-04-05", base: "EUR", quote: "USD", rate: "1.0950" },
              { date: "2024-04-05", base: "EUR", quote: "USD", rate: "zero" },
            ]),
            "application/json",
          );
          assert.equal(body.accepted, 2);
          assert.deepEqual(
            body.rejected.map((r: { index: number; field: string }) => [r.index, r.field]),
            [[2, "rate"]],
          );
          const listed = await request(
            "GET",
            "/fx-rates?base=EUR&quote=USD&from=2024-04-05&to=2024-04-05",
          );
          assert.deepEqual(
            listed.body.rates.map((r: Record<string, string>) => [r.rate, r.source]),
            [["1.0950", "api"]],
          );
        });

        await t.step("bad requests name the field", async () => {
          const notJson = await request("POST", "/fx-rates", "{", "application/json");
          assert.equal(notJson.status, 400);
          assert.equal(notJson.body.field, "body");
          const badQuery = await request("GET", "/fx-rates?quote=usdx");
          assert.equal(badQuery.status, 400);
          assert.equal(badQuery.body.field, "quote");
          const badRange = await request("GET", "/fx-rates?from=2024-04-05&to=2024-04-01");
          assert.equal(badRange.body.field, "from");
        });

        await t.step("the OpenAPI document describes both routes", async () => {
          const response = await app.request("/openapi.json");
          const document = await response.json();
          assert.ok(document.paths["/fx-rates"].post);
          assert.ok(document.paths["/fx-rates"].get);
          assert.ok(document.paths["/insights"].get.responses["422"]);
        });
      } finally {
        await db.dispose();
      }
    },
  });
}
