/**
 * Slack slash commands: signature checks (valid, tampered body, stale, missing headers),
 * workspace → tenant mapping, answers as that tenant, the delayed answer path, and the
 * route on the API app and on the standalone bot.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  constantTimeEqual,
  escapeSlackText,
  isSlackResponseUrl,
  parseSlashCommand,
  parseTeamTenants,
  signSlackRequest,
  type SlackMessage,
  slackReply,
  verifySlackRequest,
} from "../../lib/bot/slack.ts";
import type { AnalyticsClient } from "../../lib/bot/client.ts";
import { internalAnalytics } from "../../handlers/prompt.ts";
import {
  slackCommandHandler,
  slackExtension,
  UNMAPPED_TEAM_REPLY,
} from "../../handlers/slack_command.ts";
import { createBotApp } from "../../runtime/bot.ts";
import { loadBotSettings } from "../../runtime/settings.ts";
import { silentLogger } from "../../lib/log.ts";
import { KEY_A } from "../support/test_app.ts";
import { NOW, seededApp } from "./fixtures.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TEAMS = new Map([["T_ACME", "tenant-a"], ["T_GLOBEX", "tenant-b"]]);
const nowSeconds = Math.floor(NOW.getTime() / 1000);

function form(fields: Record<string, string>): string {
  return new URLSearchParams({
    token: "deprecated-verification-token",
    team_domain: "acme",
    channel_id: "C1",
    user_id: "U1",
    user_name: "ada",
    command: "/analytics",
    response_url: "https://hooks.slack.com/commands/T_ACME/1/abc",
    ...fields,
  }).toString();
}

async function signedRequest(
  body: string,
  options: {
    timestamp?: number;
    secret?: string;
    tamper?: (body: string) => string;
    headers?: boolean;
  } = {},
): Promise<Request> {
  const timestamp = options.timestamp ?? nowSeconds;
  const signature = await signSlackRequest(options.secret ?? SECRET, timestamp, body);
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (options.headers !== false) {
    headers["X-Slack-Request-Timestamp"] = String(timestamp);
    headers["X-Slack-Signature"] = signature;
  }
  return new Request("http://bot.test/slack/command", {
    method: "POST",
    headers,
    body: options.tamper ? options.tamper(body) : body,
  });
}

Deno.test("Slack signatures: v0 HMAC-SHA256 over v0:timestamp:body", async (t) => {
  const body = form({ team_id: "T_ACME", text: "spend this month" });
  const signature = await signSlackRequest(SECRET, nowSeconds, body);
  const verify = (overrides: Partial<Parameters<typeof verifySlackRequest>[0]>) =>
    verifySlackRequest({
      secret: SECRET,
      timestamp: String(nowSeconds),
      signature,
      body,
      now: NOW,
      ...overrides,
    });

  await t.step("Slack's documented example verifies", async () => {
    // From Slack's "Verifying requests from Slack" guide.
    const exampleBody =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&" +
      "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&" +
      "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F" +
      "T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121." +
      "803a0bc887a14d10d2c447fce8b6703c";
    assert.equal(
      await signSlackRequest("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, exampleBody),
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
    const result = await verifySlackRequest({
      secret: "8f742231b10e8888abcd99yyyzzz85a5",
      timestamp: "1531420618",
      signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
      body: exampleBody,
      now: new Date(1531420618_000 + 60_000),
    });
    assert.deepEqual(result, { ok: true });
  });

  await t.step("valid", async () => {
    assert.deepEqual(await verify({}), { ok: true });
    assert.deepEqual(await verify({ now: new Date(NOW.getTime() + 299_000) }), { ok: true });
  });

  await t.step("tampered body, wrong secret, altered signature", async () => {
    assert.deepEqual(await verify({ body: body.replace("spend", "spent") }), {
      ok: false,
      reason: "bad_signature",
    });
    assert.deepEqual(await verify({ body: body.replace("T_ACME", "T_GLOBEX") }), {
      ok: false,
      reason: "bad_signature",
    });
    assert.deepEqual(await verify({ secret: "another-signing-secret" }), {
      ok: false,
      reason: "bad_signature",
    });
    const flipped = signature.slice(0, -1) + (signature.endsWith("0") ? "1" : "0");
    assert.deepEqual(await verify({ signature: flipped }), { ok: false, reason: "bad_signature" });
    assert.deepEqual(await verify({ signature: signature.slice(3) }), {
      ok: false,
      reason: "bad_signature",
    });
  });

  await t.step("stale or future timestamps: more than five minutes away", async () => {
    assert.deepEqual(await verify({ now: new Date(NOW.getTime() + 301_000) }), {
      ok: false,
      reason: "stale",
    });
    const old = nowSeconds - 600;
    assert.deepEqual(
      await verify({
        timestamp: String(old),
        signature: await signSlackRequest(SECRET, old, body),
      }),
      { ok: false, reason: "stale" },
    );
    const future = nowSeconds + 600;
    assert.deepEqual(
      await verify({
        timestamp: String(future),
        signature: await signSlackRequest(SECRET, future, body),
      }),
      { ok: false, reason: "stale" },
    );
  });

  await t.step("missing headers, bad timestamp, no secret configured", async () => {
    assert.deepEqual(await verify({ timestamp: null }), { ok: false, reason: "missing_headers" });
    assert.deepEqual(await verify({ signature: undefined }), {
      ok: false,
      reason: "missing_headers",
    });
    assert.deepEqual(await verify({ timestamp: "soon" }), { ok: false, reason: "bad_timestamp" });
    assert.deepEqual(await verify({ secret: undefined }), { ok: false, reason: "not_configured" });
  });

  await t.step("helpers", () => {
    assert.ok(constantTimeEqual("v0=abc", "v0=abc"));
    assert.ok(!constantTimeEqual("v0=abc", "v0=abd"));
    assert.ok(!constantTimeEqual("v0=abc", "v0=abcd"));
    assert.deepEqual(
      [...parseTeamTenants(" T123:acme , T456:globex ")],
      [["T123", "acme"], ["T456", "globex"]],
    );
    assert.equal(parseTeamTenants(undefined).size, 0);
    assert.throws(() => parseTeamTenants("T123"), /SLACK_TEAM_TENANTS/);
    assert.throws(() => parseTeamTenants(":acme"), /SLACK_TEAM_TENANTS/);
    const command = parseSlashCommand(form({ team_id: "T_ACME", text: "roas & ctr" }));
    assert.deepEqual([command.team_id, command.text, command.command], [
      "T_ACME",
      "roas & ctr",
      "/analytics",
    ]);
    assert.equal(escapeSlackText("a <b> & c"), "a &lt;b&gt; &amp; c");
    const reply = slackReply("ROAS <3");
    assert.deepEqual([reply.response_type, reply.text], ["ephemeral", "ROAS &lt;3"]);
    assert.ok(isSlackResponseUrl("https://hooks.slack.com/commands/1/2"));
    assert.ok(!isSlackResponseUrl("https://evil.example/hooks.slack.com"));
    assert.ok(!isSlackResponseUrl("http://hooks.slack.com/commands/1/2"));
  });
});

Deno.test("POST /slack/command answers as the workspace's tenant", async (t) => {
  const test = await seededApp();
  const internal = internalAnalytics(test.deps);
  const posted: { url: string; message: SlackMessage }[] = [];
  let slow = 0;
  const slowed = (client: AnalyticsClient): AnalyticsClient => ({
    ...client,
    requests: client.requests,
    insights: async (params) => {
      await new Promise((resolve) => setTimeout(resolve, slow));
      return await client.insights(params);
    },
    campaignInsights: (id, params) => client.campaignInsights(id, params),
    campaigns: (params) => client.campaigns(params),
    latestCampaign: (platforms) => client.latestCampaign(platforms),
    resolveCampaign: (name, options) => client.resolveCampaign(name, options),
  });
  let delivered: () => void = () => {};
  const app = new Hono().post(
    "/slack/command",
    slackCommandHandler({
      signingSecret: SECRET,
      teamTenants: TEAMS,
      clientFor: (tenant) => slowed(internal.clientFor(tenant)),
      clock: () => NOW,
      timeZone: "UTC",
      logger: silentLogger,
      ackAfterMs: 100,
      postResponse: (url, message) => {
        posted.push({ url, message });
        delivered();
        return Promise.resolve();
      },
    }),
  );
  const send = async (request: Request) => {
    const response = await app.fetch(request);
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get("Content-Type"),
      body: text ? JSON.parse(text) : null,
    };
  };
  try {
    await t.step("a signed command from a mapped workspace gets an ephemeral answer", async () => {
      const answer = await send(
        await signedRequest(
          form({ team_id: "T_ACME", text: "What's the ROAS for my latest Google campaign?" }),
        ),
      );
      assert.equal(answer.status, 200);
      assert.match(answer.type ?? "", /application\/json/);
      assert.equal(answer.body.response_type, "ephemeral");
      assert.match(answer.body.text, /Spring Sale \(cmp-42\)/);
      assert.equal(answer.body.blocks[0].type, "section");
    });

    await t.step("tenancy: another workspace's tenant never sees tenant A's campaign", async () => {
      const answer = await send(
        await signedRequest(
          form({ team_id: "T_GLOBEX", text: "roas for the spring sale campaign" }),
        ),
      );
      assert.match(answer.body.text, /couldn't find a campaign called "spring sale"/);
      const own = await send(
        await signedRequest(form({ team_id: "T_GLOBEX", text: "list my campaigns" })),
      );
      assert.match(own.body.text, /Winter Deals/);
      assert.doesNotMatch(own.body.text, /Spring/);
    });

    await t.step("an unmapped workspace gets a polite refusal", async () => {
      const answer = await send(
        await signedRequest(form({ team_id: "T_OTHER", text: "spend this month" })),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.body.text, escapeSlackText(UNMAPPED_TEAM_REPLY));
    });

    await t.step(
      "refused: tampered body, stale timestamp, missing headers, wrong secret",
      async () => {
        const body = form({ team_id: "T_GLOBEX", text: "spend this month" });
        const tampered = await send(
          await signedRequest(body, { tamper: (b) => b.replace("T_GLOBEX", "T_ACME") }),
        );
        assert.deepEqual([tampered.status, tampered.body.error], [401, "signature does not match"]);
        const stale = await send(await signedRequest(body, { timestamp: nowSeconds - 301 }));
        assert.equal(stale.status, 401);
        assert.match(stale.body.error, /five minutes/);
        const missing = await send(await signedRequest(body, { headers: false }));
        assert.equal(missing.status, 401);
        const wrong = await send(await signedRequest(body, { secret: "not-the-signing-secret" }));
        assert.equal(wrong.status, 401);
      },
    );

    await t.step("empty text or help: how to ask; ssl_check: 200", async () => {
      const help = await send(await signedRequest(form({ team_id: "T_ACME", text: "" })));
      assert.match(help.body.text, /\/analytics What's the ROAS/);
      const check = await send(await signedRequest(form({ team_id: "T_ACME", ssl_check: "1" })));
      assert.deepEqual([check.status, check.body], [200, null]);
    });

    await t.step("a thread is a conversation: follow-ups lean on its last question", async () => {
      const inThread = (text: string, thread_ts: string) =>
        signedRequest(form({ team_id: "T_ACME", user_id: "U3", text, thread_ts }));
      const first = await send(await inThread("spend on google last week", "1713900000.000100"));
      assert.match(first.body.text, /Google/);
      const followUp = await send(await inThread("and for tiktok?", "1713900000.000100"));
      assert.match(followUp.body.text, /TikTok/);
      assert.match(followUp.body.text, /15 Apr/);
      // Another thread starts from nothing: "and for tiktok?" alone names no time.
      const other = await send(await inThread("and for tiktok?", "1713900000.000200"));
      assert.doesNotMatch(other.body.text, /15 Apr/);
    });

    await t.step("slow answers are acknowledged, then posted to response_url", async () => {
      slow = 400;
      const arrived = new Promise<void>((resolve) => (delivered = resolve));
      const answer = await send(
        // Another user: in U1's conversation "spend on tiktok" would be a follow-up.
        await signedRequest(form({ team_id: "T_ACME", user_id: "U2", text: "spend on tiktok" })),
      );
      assert.equal(answer.body.text, "Looking that up…");
      await arrived;
      slow = 0;
      assert.equal(posted.length, 1);
      assert.equal(posted[0].url, "https://hooks.slack.com/commands/T_ACME/1/abc");
      assert.match(posted[0].message.text, /\$17\.35/);
    });
  } finally {
    await test.dispose();
  }
});

Deno.test("/slack/command on the API app and on the standalone bot", async (t) => {
  const test = await seededApp({
    extensions: [slackExtension({ signingSecret: SECRET, teamTenants: TEAMS })],
  });
  try {
    await t.step({
      name: "on the API app, signed by Slack instead of a bearer token",
      fn: async () => {
        const answer = await test.app.request(
          await signedRequest(form({ team_id: "T_ACME", text: "how much did I spend on tiktok" })),
        );
        assert.equal(answer.status, 200);
        assert.match((await answer.json()).text, /\$17\.35/);
        const unsigned = await test.app.request("/slack/command", {
          method: "POST",
          body: form({ team_id: "T_ACME" }),
        });
        assert.equal(unsigned.status, 401);
        await unsigned.body?.cancel();
      },
    });

    await t.step("the OpenAPI document lists it as public", async () => {
      const spec = await (await test.app.request("/openapi.json")).json();
      assert.deepEqual(spec.paths["/slack/command"].post.security, []);
    });

    await t.step("the standalone bot answers with the tenant's API key", async () => {
      const bot = createBotApp(
        loadBotSettings({
          ANALYTICS_API_URL: "http://api.internal",
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_TEAM_TENANTS: "T_ACME:tenant-a,T_GLOBEX:tenant-b",
          SLACK_API_KEYS: `tenant-a:${KEY_A}`,
        }),
        {
          fetch: (request) => Promise.resolve(test.app.fetch(request)),
          clock: () => NOW,
          logger: silentLogger,
        },
      );
      const answer = await bot.fetch(
        await signedRequest(form({ team_id: "T_ACME", text: "how much did I spend on tiktok" })),
      );
      assert.equal(answer.status, 200);
      assert.match((await answer.json()).text, /\$17\.35/);
      const noKey = await bot.fetch(
        await signedRequest(form({ team_id: "T_GLOBEX", text: "spend" })),
      );
      assert.match((await noKey.json()).text, /not set up/);
      const tampered = await bot.fetch(
        await signedRequest(form({ team_id: "T_GLOBEX", text: "spend" }), {
          tamper: (b) => `${b}&x=1`,
        }),
      );
      assert.equal(tampered.status, 401);
      await tampered.body?.cancel();
    });
  } finally {
    await test.dispose();
  }
});
