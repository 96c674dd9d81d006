/**
 * The cached read's fast paths give the same results as the general ones: the access
 * line formatted by hand equals `info("request", ...)`, and a query parsed once and
 * reused equals a fresh parse (errors are never cached).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createLogger, type LogLevel } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
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

Deno.test("the access line's time is the current millisecond's (made once per ms)", () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const fields = { request_id: "r", method: "GET", route: "/x", status: 200, ms: 1, tenant: "t" };
  for (let round = 0; round < 50; round++) {
    const before = Date.now();
    logger.access!(fields);
    const after = Date.now();
    const time = Date.parse(JSON.parse(lines.at(-1)!).time);
    assert.ok(before <= time && time <= after, `${before} <= ${time} <= ${after}`);
  }
});

Deno.test("bound metrics count into the same series as inc and observe", () => {
  const registry = new Registry();
  const counter = registry.counter("c_total", "c");
  const histogram = registry.histogram("h_seconds", "h");
  const labels = { route: "/insights", method: "GET", status: 200 };
  const inc = counter.bind(labels);
  const observe = histogram.bind({ route: "/insights" });
  counter.inc(labels);
  inc();
  inc(3);
  histogram.observe(0.002, { route: "/insights" });
  observe(0.02);
  assert.equal(counter.get(labels), 5);
  assert.equal(counter.get({ ...labels, status: 404 }), 0);
  const text = registry.render();
  assert.match(text, /^c_total\{method="GET",route="\/insights",status="200"\} 5$/m);
  assert.match(text, /^h_seconds_count\{route="\/insights"\} 2$/m);
  assert.match(text, /^h_seconds_bucket\{route="\/insights",le="0.0025"\} 1$/m);
  assert.match(text, /^h_seconds_bucket\{route="\/insights",le="0.025"\} 2$/m);
});
