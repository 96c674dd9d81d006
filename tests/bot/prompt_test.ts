/**
 * POST /prompt: in-process on the API app (auth, scope, tenancy, validation, OpenAPI)
 * and on the standalone bot, which forwards the caller's token to the API over HTTP.
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { promptExtension } from "../../handlers/prompt.ts";
import { createBotApp } from "../../runtime/bot.ts";
import { loadBotSettings } from "../../runtime/settings.ts";
import { parsePrompt } from "../../lib/bot/parse/parse.ts";
import { auth, JWT_SECRET, KEY_A, KEY_B } from "../support/test_app.ts";
import { seededApp } from "./fixtures.ts";

async function jwt(claims: Record<string, unknown>) {
  return await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt()
    .setExpirationTime("5m").sign(new TextEncoder().encode(JWT_SECRET));
}

type Requester = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

function poster(app: Requester) {
  return async (body: unknown, headers: Record<string, string> = auth(KEY_A), raw = false) => {
    const response = await app.request("/prompt", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: raw ? String(body) : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
}

/** The 400s every /prompt must give, naming the field. */
async function badRequests(post: ReturnType<typeof poster>) {
  const cases: [unknown, boolean][] = [
    [{}, false],
    [{ question: "spend?" }, false],
    [{ prompt: "" }, false],
    [{ prompt: "   " }, false],
    [{ prompt: 42 }, false],
    [{ prompt: null }, false],
    [{ prompt: ["spend"] }, false],
    [{ prompt: "x".repeat(1001) }, false],
    [["spend this month"], false],
    ["spend this month", true],
    ["{not json", true],
    ["", true],
  ];
  for (const [body, raw] of cases) {
    const answer = await post(body, auth(KEY_A), raw);
    assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${answer.status}`);
    assert.equal(answer.body.field, "prompt");
    assert.equal(typeof answer.body.error, "string");
  }
}

Deno.test("POST /prompt in-process: auth, tenancy and validation as the API's", async (t) => {
  const { app, dispose } = await seededApp({ extensions: [promptExtension()] });
  const post = poster(app);
  try {
    await t.step("answers with reply, query and data", async () => {
      const prompt = "What's the ROAS for my latest Google campaign?";
      const { status, body } = await post({ prompt });
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), [
        "conversation_id",
        "data",
        "query",
        "reply",
        "view_url",
      ]);
      assert.match(body.reply, /^The ROAS for your latest Google campaign, Spring Sale \(cmp-42\)/);
      assert.deepEqual(body.query, parsePrompt(prompt, { now: new Date("2024-04-24T10:00:00Z") }));
      assert.equal(body.data.kind, "metric");
      assert.equal(body.data.result.campaign_id, "cmp-42");
    });

    await t.step("401 without or with a wrong token, 403 without insights:read", async () => {
      assert.equal((await post({ prompt: "spend" }, {})).status, 401);
      assert.equal((await post({ prompt: "spend" }, auth("wrong-key-0000"))).status, 401);
      assert.equal((await post({ prompt: "spend" }, { Authorization: "Basic abc" })).status, 401);
      const writer = await jwt({ tenant: "tenant-a", scope: "metrics:write" });
      const forbidden = await post({ prompt: "spend" }, auth(writer));
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.field, "scope");
      const reader = await jwt({ tenant: "tenant-a", scope: "insights:read" });
      const allowed = await post({ prompt: "spend on tiktok" }, auth(reader));
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.data.result.totals.cost, 17.35);
    });

    await t.step(
      "400 naming prompt for every malformed body; 1000 characters are fine",
      async () => {
        await badRequests(post);
        const long = await post({
          prompt: `spend on tiktok ${"please ".repeat(140)}`.slice(0, 1000),
        });
        assert.equal(long.status, 200);
      },
    );

    await t.step("tenant B never sees tenant A's campaigns, even naming them", async () => {
      const asB = (prompt: string) => post({ prompt }, auth(KEY_B));
      for (
        const prompt of [
          "roas for the spring sale campaign",
          'revenue for "Spring Sale"',
          "roas for cmp-42",
          "ctr for the black friday blitz campaign",
          "daily spend for cmp-42 this month",
        ]
      ) {
        const { status, body } = await asB(prompt);
        assert.equal(status, 200);
        assert.equal(body.data.kind, "not_found", `${prompt}: ${body.reply}`);
        const text = JSON.stringify(body.data);
        for (const secret of ["Spring Sale", "Black Friday", "Spring Promo", "t-1", "m-1"]) {
          assert.ok(!text.includes(secret), `${prompt}: ${secret} leaked`);
        }
      }
      const list = await asB("list my campaigns");
      assert.deepEqual(
        list.body.data.campaigns.map((c: { campaign_id: string }) => c.campaign_id),
        ["b-7"],
      );
      const latest = await asB("roas of my latest campaign");
      assert.match(latest.body.reply, /Winter Deals \(b-7\)/);
      const spend = await asB("how much did I spend");
      assert.equal(spend.body.data.result.totals.cost, 9.9);
    });

    await t.step("the OpenAPI document describes /prompt", async () => {
      const spec = await (await app.request("/openapi.json")).json();
      const operation = spec.paths["/prompt"].post;
      assert.ok(operation.requestBody.content["application/json"]);
      assert.deepEqual(operation.security, [{ bearer: ["insights:read"] }]);
      assert.ok(operation.responses["400"]);
    });
  } finally {
    await dispose();
  }
});

Deno.test("the standalone bot forwards the caller's token to the API", async (t) => {
  const { app, dispose } = await seededApp({ extensions: [promptExtension()] });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const calls: string[] = [];
  const config = loadBotSettings({ ANALYTICS_API_URL: `http://127.0.0.1:${server.addr.port}` });
  const bot = createBotApp(config, {
    fetch: (request) => {
      calls.push(`${new URL(request.url).pathname} ${request.headers.get("Authorization")}`);
      return fetch(request);
    },
    clock: () => new Date("2024-04-24T10:00:00Z"),
  });
  const post = poster(bot);
  try {
    await t.step("no Authorization header: 401 locally, the API is not called", async () => {
      const answer = await post({ prompt: "spend this month" }, {});
      assert.equal(answer.status, 401);
      assert.deepEqual(calls, []);
      assert.equal((await post({ prompt: "spend" }, { Authorization: "Token x" })).status, 401);
      assert.deepEqual(calls, []);
    });

    await t.step("a valid token: the same answer as in-process, the token forwarded", async () => {
      for (
        const prompt of [
          "What's the ROAS for my latest Google campaign?",
          "top 3 campaigns by spend this month",
          "roas for the blck fridy campaign",
        ]
      ) {
        const viaBot = await post({ prompt });
        const inProcess = await poster(app)({ prompt });
        assert.equal(viaBot.status, 200);
        assert.equal(viaBot.body.reply, inProcess.body.reply);
        assert.deepEqual(viaBot.body.data, inProcess.body.data);
      }
      assert.ok(calls.length > 0);
      assert.ok(calls.every((call) => call.endsWith(`Bearer ${KEY_A}`)));
    });

    await t.step(
      "the API decides: a wrong token is 401, a token without the scope 403",
      async () => {
        const wrong = await post({ prompt: "spend this month" }, auth("wrong-key-0000"));
        assert.equal(wrong.status, 401);
        assert.match(wrong.body.reply, /Your token can't read insights/);
        const writer = await jwt({ tenant: "tenant-a", scope: "metrics:write" });
        const forbidden = await post({ prompt: "spend this month" }, auth(writer));
        assert.equal(forbidden.status, 403);
        // Even a question that needs no data is refused for a token the API refuses.
        assert.equal(
          (await post({ prompt: "tell me a joke" }, auth("wrong-key-0000"))).status,
          401,
        );
        assert.equal((await post({ prompt: "tell me a joke" })).status, 200);
      },
    );

    await t.step("tenancy is the API's: tenant B gets only its own", async () => {
      const answer = await post({ prompt: "roas for the spring sale campaign" }, auth(KEY_B));
      assert.equal(answer.body.data.kind, "not_found");
    });

    await t.step("the same 400s", async () => {
      await badRequests(post);
    });

    await t.step("an unreachable API gives an honest reply", async () => {
      const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const offline = createBotApp(
        loadBotSettings({ ANALYTICS_API_URL: `http://127.0.0.1:${port}` }),
      );
      const answer = await poster(offline)({ prompt: "spend this month" });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.data.kind, "error");
      assert.match(answer.body.reply, /analytics API is unavailable right now/);
    });
  } finally {
    await server.shutdown();
    await dispose();
  }
});
