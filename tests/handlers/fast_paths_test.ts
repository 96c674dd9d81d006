/**
 * The cached read's fast paths give the same results as the general ones: the access
 * line formatted by hand equals `info("request", ...)`, and a query parsed once and
 * reused equals a fresh parse (errors are never cached).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createLogger, type LogLevel } from "../../lib/log.ts";
import { BadRequest, InsightsQuery, parseQuery } from "../../handlers/params.ts";

Deno.test("the hand-formatted access line equals the info line", () => {
  const lines: string[] = [];
  const write = (line: string, _level: LogLevel) => lines.push(line);
  const at = new Date("2026-01-02T03:04:05.678Z");
  const logger = createLogger({ write, now: () => at }, { component: "http" });
  const cases = [
    {
      request_id: "3f2a-01",
      method: "GET",
      route: "/insights",
      status: 200,
      ms: 0.12,
      tenant: "acme",
    },
    {
      request_id: undefined,
      method: "POST",
      route: "unmatched",
      status: 404,
      ms: 3,
      tenant: undefined,
    },
    { request_id: "key=hunter2", method: "GET", route: '/x"y', status: 500, ms: 1.5, tenant: "t" },
  ];
  for (const fields of cases) {
    lines.length = 0;
    logger.info("request", fields);
    logger.access!(fields);
    assert.equal(lines.length, 2);
    assert.equal(lines[1], lines[0]);
  }
  assert.ok(!lines[0].includes("hunter2"), "a secret-looking request id is scrubbed");
  const quiet = createLogger({ write, level: "warn" });
  lines.length = 0;
  quiet.access!(cases[0]);
  assert.equal(lines.length, 0, "no access line below the threshold");
});

Deno.test("a reused parse equals a fresh one; bad queries fail every time", async () => {
  const app = new Hono();
  app.onError((error, c) =>
    error instanceof BadRequest
      ? c.json({ field: error.field, error: error.message }, 400)
      : c.text(String(error), 500)
  );
  app.get("/q", (c) => c.json(parseQuery(c, InsightsQuery)));
  const ask = async (query: string) => {
    const response = await app.request(`/q?${query}`);
    return { status: response.status, body: await response.json() };
  };
  const good = "from=2024-01-01&to=2024-01-31&group_by=platform&platform=meta,google";
  const first = await ask(good);
  assert.equal(first.status, 200);
  assert.deepEqual(first.body.platform, ["meta", "google"]);
  for (let i = 0; i < 3; i++) assert.deepEqual(await ask(good), first);
  for (const bad of ["from=yesterday", "platform=myspace", "from=2024-01-01&from=2024-01-02"]) {
    const once = await ask(bad);
    assert.equal(once.status, 400, bad);
    assert.deepEqual(await ask(bad), once, `${bad} fails the same way again`);
  }
});
