/**
 * The dashboard over HTTP, without a browser: the page and its assets (CSP, versioned
 * immutable URLs, gzip, nothing from another origin), the session cookie and its
 * limits, live updates (SSE and ETag polling) and the dead-letter route.
 */
import assert from "node:assert/strict";
import { LiveVersions } from "../../handlers/live.ts";
import { createSessions, SESSION_COOKIE } from "../../handlers/session.ts";
import { WEB_ASSETS } from "../../handlers/web_assets.ts";
import {
  type DashboardServer,
  KEY_A,
  PUSH_PATH,
  shiftDay,
  startDashboardServer,
  TENANT_A,
  todayUtc,
} from "./server.ts";

let shared: Promise<DashboardServer> | undefined;
const server = () => (shared ??= startDashboardServer({ days: 3, campaigns: 4 }));

async function signIn(base: string, token = KEY_A, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: base, ...headers },
    body: JSON.stringify({ token }),
  });
  const body = await response.json();
  const setCookie = response.headers.get("Set-Cookie") ?? "";
  const cookie = setCookie.split(";")[0];
  return { response, body, setCookie, cookie };
}

function pushRow(overrides: Record<string, unknown> = {}) {
  return {
    tenant_id: TENANT_A,
    platform: "google",
    account_id: "push-account",
    campaign_id: "push-campaign",
    campaign_name: "Pushed",
    ts: new Date().toISOString().slice(0, 13) + ":00:00Z",
    impressions: 1000,
    clicks: 10,
    conversions: "1",
    cost: "5.00",
    revenue: "20.00",
    currency: "USD",
    source: "push",
    ...overrides,
  };
}

Deno.test("dashboard http", async (t) => {
  const { base } = await server();
  try {
    await t.step(
      "the page: strict CSP, no inline script or style, only its own assets",
      async () => {
        const response = await fetch(`${base}/`);
        assert.equal(response.status, 200);
        const csp = response.headers.get("Content-Security-Policy") ?? "";
        assert.match(csp, /script-src 'self'/);
        assert.match(csp, /default-src 'none'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        const html = await response.text();
        assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
        assert.doesNotMatch(html, /<style|\sstyle=/, "no inline style");
        assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "nothing from another origin");
        const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
        assert.ok(urls.length >= 4, `asset URLs in the page: ${urls}`);
        for (const url of new Set(urls)) {
          const asset = await fetch(base + url, { headers: { "Accept-Encoding": "gzip" } });
          assert.equal(asset.status, 200, url);
          assert.equal(asset.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
          assert.equal(asset.headers.get("Content-Encoding"), "gzip", url);
          await asset.arrayBuffer();
        }
      },
    );

    await t.step("an asset under another digest is not served", async () => {
      const asset = WEB_ASSETS.get("app.js")!;
      const stale = await fetch(`${base}/assets/0000/app.js`);
      assert.equal(stale.status, 404);
      await stale.body?.cancel();
      const current = await fetch(base + asset.url);
      assert.equal(await current.text(), asset.text);
    });

    await t.step("/docs uses the vendored Swagger UI", async () => {
      const html = await (await fetch(`${base}/docs`)).text();
      assert.doesNotMatch(html, /unpkg|https?:\/\//);
      assert.match(html, new RegExp(WEB_ASSETS.get("swagger-ui-bundle.js")!.url));
    });

    await t.step("sign-in refuses a wrong key and an empty body, naming the field", async () => {
      const wrong = await signIn(base, "not-a-key");
      assert.equal(wrong.response.status, 401);
      assert.equal(wrong.body.field, "token");
      assert.equal(wrong.setCookie, "");
      const empty = await fetch(`${base}/session`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      assert.equal(empty.status, 400);
      assert.equal((await empty.json()).field, "token");
    });

    await t.step(
      "the session cookie: HttpOnly, SameSite=Strict, Secure only behind HTTPS",
      async () => {
        const { response, body, setCookie } = await signIn(base);
        assert.equal(response.status, 200);
        assert.equal(body.tenant, TENANT_A);
        assert.deepEqual(body.scopes, ["insights:read", "metrics:write"]);
        assert.match(setCookie, new RegExp(`^${SESSION_COOKIE}=`));
        assert.match(setCookie, /HttpOnly/);
        assert.match(setCookie, /SameSite=Strict/);
        assert.match(setCookie, /Path=\//);
        assert.doesNotMatch(setCookie, /Secure/);
        const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
        assert.ok(maxAge > 0 && maxAge <= 3600, `short-lived: ${maxAge}`);
        const proxied = await signIn(base, KEY_A, { "X-Forwarded-Proto": "https" });
        // The browser's origin behind the proxy is https: the Origin header says so too.
        assert.equal(proxied.response.status, 403);
        const https = await signIn(base, KEY_A, {
          "X-Forwarded-Proto": "https",
          Origin: base.replace("http:", "https:"),
        });
        assert.equal(https.response.status, 200);
        assert.match(https.setCookie, /Secure/);
      },
    );

    await t.step("the cookie reads the API; without it the API answers 401", async () => {
      const { cookie } = await signIn(base);
      const withCookie = await fetch(`${base}/insights?from=${todayUtc()}&to=${todayUtc()}`, {
        headers: { Cookie: cookie },
      });
      assert.equal(withCookie.status, 200);
      assert.ok((await withCookie.json()).totals.impressions > 0);
      const without = await fetch(`${base}/insights`);
      assert.equal(without.status, 401);
      await without.body?.cancel();
      const tampered = await fetch(`${base}/insights`, {
        headers: { Cookie: cookie.slice(0, -3) + "abc" },
      });
      assert.equal(tampered.status, 401);
      await tampered.body?.cancel();
      const who = await (await fetch(`${base}/session`, { headers: { Cookie: cookie } })).json();
      assert.equal(who.signed_in, true);
      assert.equal(who.tenant, TENANT_A);
    });

    await t.step("with the cookie, a change needs the page's own Origin", async () => {
      const { cookie } = await signIn(base);
      const post = (headers: Record<string, string>) =>
        fetch(base + PUSH_PATH, {
          method: "POST",
          headers: { "Content-Type": "application/json", Cookie: cookie, ...headers },
          body: JSON.stringify([pushRow()]),
        });
      const crossOrigin = await post({ Origin: "http://evil.example" });
      assert.equal(crossOrigin.status, 403);
      assert.equal((await crossOrigin.json()).field, "Origin");
      const noOrigin = await post({});
      assert.equal(noOrigin.status, 403);
      await noOrigin.body?.cancel();
      const sameOrigin = await post({ Origin: base });
      assert.equal(sameOrigin.status, 200);
      assert.equal((await sameOrigin.json()).accepted, 1);
    });

    await t.step("a session token sent as a bearer reads like the cookie", async () => {
      const { cookie } = await signIn(base);
      const token = cookie.slice(SESSION_COOKIE.length + 1);
      const response = await fetch(`${base}/insights?from=${todayUtc()}&to=${todayUtc()}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });

    await t.step("a session token is not a bearer token for changes", async () => {
      const { cookie } = await signIn(base);
      const token = cookie.slice(SESSION_COOKIE.length + 1);
      const response = await fetch(base + PUSH_PATH, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify([pushRow()]),
      });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    });

    await t.step("the ask box works with the cookie (the bot reads with the session)", async () => {
      const { cookie } = await signIn(base);
      const response = await fetch(`${base}/prompt`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: cookie, Origin: base },
        body: JSON.stringify({ prompt: "total spend last 7 days" }),
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.query.intent, "metric");
      assert.ok(body.reply.length > 0);
      assert.notEqual(body.data.kind, "error", JSON.stringify(body.data));
    });

    await t.step("sign-out clears the cookie; cross-origin sign-out is refused", async () => {
      const { cookie } = await signIn(base);
      const cross = await fetch(`${base}/session`, {
        method: "DELETE",
        headers: { Cookie: cookie, Origin: "http://evil.example" },
      });
      assert.equal(cross.status, 403);
      await cross.body?.cancel();
      const out = await fetch(`${base}/session`, {
        method: "DELETE",
        headers: { Cookie: cookie, Origin: base },
      });
      assert.equal(out.status, 204);
      assert.match(out.headers.get("Set-Cookie") ?? "", /Max-Age=0/);
    });

    await t.step("live: SSE announces a committed push", async () => {
      const { cookie } = await signIn(base);
      const events = await fetch(`${base}/events`, { headers: { Cookie: cookie } });
      assert.equal(events.status, 200);
      assert.match(events.headers.get("Content-Type") ?? "", /text\/event-stream/);
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      const versions: string[] = [];
      let buffer = "";
      const nextVersion = async () => {
        for (;;) {
          const match = /event: version\ndata: (.+)\n/.exec(buffer);
          if (match) {
            buffer = buffer.slice(match.index + match[0].length);
            return JSON.parse(match[1]).version as string;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error("stream ended");
          buffer += value;
        }
      };
      try {
        versions.push(await nextVersion());
        const started = performance.now();
        const push = await fetch(base + PUSH_PATH, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify([pushRow({ impressions: 7 })]),
        });
        assert.equal(push.status, 200);
        await push.body?.cancel();
        versions.push(await nextVersion());
        const ms = performance.now() - started;
        assert.notEqual(versions[1], versions[0]);
        assert.ok(ms < 2000, `announced after ${ms} ms`);
        // A write this process did not make (another replica, the streamer): the watcher
        // reads the shared version and announces it too.
        const elsewhere = performance.now();
        const bumped = await (await server()).bumpElsewhere(TENANT_A);
        assert.equal(await nextVersion(), bumped);
        const polledMs = performance.now() - elsewhere;
        assert.ok(polledMs < 2000, `announced after ${polledMs} ms`);
      } finally {
        await reader.cancel();
      }
    });

    await t.step("live: polling /data-version answers 304 until the data changes", async () => {
      const auth = { Authorization: `Bearer ${KEY_A}` };
      const first = await fetch(`${base}/data-version`, { headers: auth });
      const etag = first.headers.get("ETag")!;
      await first.body?.cancel();
      const same = await fetch(`${base}/data-version`, {
        headers: { ...auth, "If-None-Match": etag },
      });
      assert.equal(same.status, 304);
      const push = await fetch(base + PUSH_PATH, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify([pushRow({ impressions: 8 })]),
      });
      await push.body?.cancel();
      const changed = await fetch(`${base}/data-version`, {
        headers: { ...auth, "If-None-Match": etag },
      });
      assert.equal(changed.status, 200);
      assert.notEqual(changed.headers.get("ETag"), etag);
      await changed.body?.cancel();
    });

    await t.step("dead letters: a rejected pushed row is listed with its reason", async () => {
      const push = await fetch(base + PUSH_PATH, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
        body: JSON.stringify([pushRow({ impressions: -5, campaign_id: "bad-row" })]),
      });
      const result = await push.json();
      assert.equal(result.rejected.length, 1);
      const { rejects } = await (await server()).apiJson("/sources/rejects?limit=5") as {
        rejects: {
          field: string;
          reason: string;
          source: string;
          payload: { campaign_id: string };
        }[];
      };
      assert.equal(rejects[0].source, "push");
      assert.equal(rejects[0].field, "impressions");
      assert.equal(rejects[0].payload.campaign_id, "bad-row");
      assert.ok(rejects[0].reason.length > 0);
      const bad = await fetch(`${base}/sources/rejects?limit=0`, {
        headers: { Authorization: `Bearer ${KEY_A}` },
      });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).field, "limit");
    });

    await t.step("hourly series for short ranges", async () => {
      const today = todayUtc();
      const body = await (await server()).apiJson(
        `/insights?from=${shiftDay(today, -1)}&to=${today}&group_by=hour&limit=1000`,
      ) as { groups: { bucket: string; impressions: number }[] };
      assert.ok(body.groups.length > 24, `hours: ${body.groups.length}`);
      for (const group of body.groups) assert.match(group.bucket, /^\d{4}-\d{2}-\d{2}T\d{2}:00$/);
      const totals = await (await server()).apiJson(
        `/insights?from=${shiftDay(today, -1)}&to=${today}`,
      ) as { totals: { impressions: number } };
      const summed = body.groups.reduce((sum, group) => sum + group.impressions, 0);
      assert.equal(summed, totals.totals.impressions);
    });
  } finally {
    await (await server()).close();
  }
});

Deno.test("sessions expire, and never outlive the token they came from", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const sessions = createSessions({ secret: "material", now: () => now });
  const principal = { tenant: "t1", scopes: new Set(["insights:read"]), kind: "jwt" as const };
  const { token, exp } = await sessions.issue(principal, now + 60_000);
  assert.equal(exp, Math.floor((now + 60_000) / 1000), "capped by the JWT's own expiry");
  assert.equal((await sessions.verify(token)).principal.tenant, "t1");
  now += 61_000;
  await assert.rejects(sessions.verify(token), /session expired/);
  const other = createSessions({ secret: "other material", now: () => now });
  const fresh = await sessions.issue(principal);
  await assert.rejects(other.verify(fresh.token), /invalid session/);
});

Deno.test("live versions: one read per tenant per interval, and recovery after a failed read", async () => {
  let reads = 0;
  let failing = true;
  let version = "v1";
  const versions = new LiveVersions({
    pollMs: 20,
    read: () => {
      reads++;
      return failing ? Promise.reject(new Error("cache down")) : Promise.resolve(version);
    },
  });
  const seen: string[][] = [[], [], []];
  const stops = seen.map((list) => versions.subscribe("t1", (v) => list.push(v), "unavailable"));
  await new Promise((resolve) => setTimeout(resolve, 70));
  assert.deepEqual(seen, [[], [], []], "nothing announced while the version cannot be read");
  const readsWhileDown = reads;
  // Three listeners, one read per interval (timers may run late, never early).
  assert.ok(readsWhileDown >= 1 && readsWhileDown <= 4, `reads: ${readsWhileDown}`);
  failing = false;
  await until(() => seen.every((list) => list.length === 1));
  assert.deepEqual(seen, [["v1"], ["v1"], ["v1"]], "announced once the cache answers");
  version = "v2";
  versions.notify("t1");
  await until(() => seen[0].length === 2);
  assert.deepEqual(seen[0], ["v1", "v2"], "a local write is announced");
  for (const stop of stops) stop();
  assert.equal(versions.watchedTenants, 0);
  const after = reads;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(reads, after, "no reads once nobody listens");
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
