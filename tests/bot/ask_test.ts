/** `main.ts ask "..."`: one question from the command line, in-process or over HTTP. */
import assert from "node:assert/strict";
import { promptExtension } from "../../handlers/prompt.ts";
import { KEY_A } from "../support/test_app.ts";
import { seededApp } from "./fixtures.ts";
import { runMain } from "../support/services.ts";

function ask(args: string[], env: Record<string, string>) {
  return runMain(["ask", ...args], {
    DATABASE_URL: "",
    ANALYTICS_API_URL: "",
    API_KEY: "",
    LOG_LEVEL: "",
    ...env,
  });
}

Deno.test({
  name: "ask answers from the local embedded database (fake data backfilled on first use)",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "ask-test-" });
    try {
      const env = { DATA_DIR: dataDir, FAKE_BACKFILL_DAYS: "2", DATA_SOURCE: "fake" };
      const first = await ask(["What's the ROAS for my latest Google campaign?"], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout.trim(),
        /^The ROAS for your latest Google campaign, .+ \(cmp-\d+\), is \d+\.\d\d over its lifetime, .+\.$/,
      );
      const json = await ask(["--json", "top 3 campaigns by clicks"], env);
      assert.equal(json.code, 0, json.stderr);
      const answer = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(answer).sort(), ["data", "query", "reply", "view_url"]);
      assert.equal(answer.query.intent, "rank");
      assert.equal(answer.data.kind, "rank");
      assert.equal(answer.data.sets[0].groups.length, 3);
      assert.match(answer.reply, /^1\. .+\n2\. .+\n3\. /m);
      const usage = await ask([], env);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /usage: main\.ts ask/);
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "ask calls ANALYTICS_API_URL with ANALYTICS_API_TOKEN when set",
  sanitizeResources: false,
  async fn() {
    const { app, dispose } = await seededApp({ extensions: [promptExtension()] });
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const ok = await ask(["how much did I spend on tiktok"], {
        ANALYTICS_API_URL: base,
        ANALYTICS_API_TOKEN: KEY_A,
      });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(
        ok.stdout.trim(),
        "You spent $17.35 on your TikTok campaigns over all time (you didn't name a period).",
      );
      // --conversation: the second question follows up on the first (kept in a file).
      const cacheHome = await Deno.makeTempDir({ prefix: "ask-conversation-" });
      try {
        const env = {
          ANALYTICS_API_URL: base,
          ANALYTICS_API_TOKEN: KEY_A,
          XDG_CACHE_HOME: cacheHome,
        };
        const first = await ask(
          ["--json", "--conversation", "cli-test-1", "spend on tiktok last week"],
          env,
        );
        assert.equal(first.code, 0, first.stderr);
        const followUp = await ask(
          ["--json", "--conversation", "cli-test-1", "and for google?"],
          env,
        );
        const answer = JSON.parse(followUp.stdout);
        assert.deepEqual(answer.query.platforms, ["google"]);
        assert.deepEqual(answer.query.metrics, ["spend"]);
        assert.deepEqual(answer.query.date_range, JSON.parse(first.stdout).query.date_range);
        assert.notEqual(answer.query.date_range, null);
        const alone = await ask(["--json", "and for google?"], env);
        assert.deepEqual(JSON.parse(alone.stdout).query.metrics, []);
        const bad = await ask(["--conversation", "no", "spend"], env);
        assert.equal(bad.code, 2);
      } finally {
        await Deno.remove(cacheHome, { recursive: true }).catch(() => {});
      }
      const refused = await ask(["how much did I spend on tiktok"], {
        ANALYTICS_API_URL: base,
        ANALYTICS_API_TOKEN: "wrong-key-0000",
      });
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /Your token can't read insights/);
    } finally {
      await server.shutdown();
      await dispose();
    }
  },
});
