/// <reference lib="dom" />
/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core): sign-in,
 * tiles against the API's own totals, filters, live updates without reload, the chart's
 * pixels, the ask box, the network staying on the origin, a phone-width layout, and the
 * session cookie's protections.
 *
 * UPDATE_DASHBOARD_SCREENSHOT=1 also saves the overview to docs/dashboard.png.
 */
import assert from "node:assert/strict";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import {
  type DashboardServer,
  KEY_A,
  PUSH_PATH,
  shiftDay,
  startDashboardServer,
  TENANT_A,
  todayUtc,
} from "./server.ts";

const CHROMIUM = "/usr/bin/chromium";
const chromiumMissing = (() => {
  try {
    return !Deno.statSync(CHROMIUM).isFile;
  } catch {
    return true;
  }
})();
if (chromiumMissing && Deno.env.get("CI") === "true") {
  throw new Error(`CI=true but ${CHROMIUM} is missing: the browser tests must run in CI`);
}

/** The tiles and the API fields they show. */
const TILES = {
  impressions: "impressions",
  clicks: "clicks",
  conversions: "conversions",
  spend: "cost",
  revenue: "revenue",
  ctr: "ctr",
  roas: "roas",
  cpa: "cpa",
} as const;

interface Insights {
  currency: string | null;
  totals: Record<string, number | null>;
}

/** What each tile must hold for a selection: the API's raw value, empty when null. */
async function expectedTiles(
  server: DashboardServer,
  selection: { from: string; to: string; platform?: string },
): Promise<Record<string, string>> {
  const params = new URLSearchParams({ from: selection.from, to: selection.to, tz: "UTC" });
  if (selection.platform) params.set("platform", selection.platform);
  const body = await server.apiJson(`/insights?${params}`) as Insights;
  return Object.fromEntries(
    Object.entries(TILES).map(([tile, field]) => {
      const value = body.totals[field];
      return [tile, value === null || value === undefined ? "" : String(value)];
    }),
  );
}

function shownTiles(page: Page): Promise<Record<string, string>> {
  return page.evaluate((tiles) =>
    Object.fromEntries(
      tiles.map((tile) => [
        tile,
        document.querySelector(`[data-testid="kpi-${tile}"]`)?.getAttribute("data-value") ??
          "missing",
      ]),
    ), Object.keys(TILES));
}

/** Waits until the tiles equal the API's answer (the page may still be loading). */
async function tilesEqualApi(
  page: Page,
  server: DashboardServer,
  selection: { from: string; to: string; platform?: string },
  timeoutMs = 5000,
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let expected = await expectedTiles(server, selection);
  for (;;) {
    const shown = await shownTiles(page);
    if (JSON.stringify(shown) === JSON.stringify(expected)) return shown;
    if (Date.now() > deadline) {
      assert.deepEqual(shown, expected, "tiles differ from the API's /insights totals");
    }
    await page.waitForTimeout(50);
    expected = await expectedTiles(server, selection);
  }
}

async function signIn(page: Page, base: string, key = KEY_A): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('[data-testid="signin-key"]', key);
  await page.click('[data-testid="signin-submit"]');
}

const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

Deno.test({
  name: "dashboard in a browser",
  ignore: chromiumMissing,
  // The browser is a child process with its own pipes; both are closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startDashboardServer();
    const { base } = server;
    const origin = new URL(base).origin;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: LAUNCH_ARGS,
      });
      const context: BrowserContext = await browser.newContext({
        viewport: { width: 1440, height: 1000 },
        timezoneId: "UTC",
        locale: "en-US",
      });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      const foreignRequests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => consoleErrors.push(error.message));
      page.on("request", (request) => {
        const url = request.url();
        if (
          !url.startsWith("data:") && !url.startsWith("blob:") && new URL(url).origin !== origin
        ) {
          foreignRequests.push(url);
        }
      });

      await t.step("a wrong key shows the error on the sign-in form", async () => {
        const wrong = await context.newPage();
        await signIn(wrong, base, "not-the-key");
        const error = wrong.locator('[data-testid="signin-error"]');
        await error.waitFor({ state: "visible" });
        assert.match(await error.textContent() ?? "", /not accepted/);
        assert.equal(await wrong.locator("#app").isHidden(), true);
        await wrong.close();
      });

      await t.step("signing in shows the overview; the tiles equal /insights", async () => {
        await signIn(page, base);
        await page.waitForSelector("html[data-ready]");
        const from = await page.inputValue('[data-testid="range-from"]');
        const to = await page.inputValue('[data-testid="range-to"]');
        assert.equal(to, todayUtc());
        assert.equal(from, shiftDay(todayUtc(), -6), "last 7 days by default");
        const shown = await tilesEqualApi(page, server, { from, to });
        assert.notEqual(shown.impressions, "0");
        // html[data-ready] marks the first paint (tiles and chart); the tables and "data as
        // of" follow once the whole view has loaded.
        await page.waitForFunction(() =>
          Boolean(document.querySelector('[data-testid="data-as-of"]')?.getAttribute("datetime")) &&
          document.querySelector('[data-testid="campaign-row"]') !== null
        );
        const asOf = await page.getAttribute('[data-testid="data-as-of"]', "datetime");
        assert.ok(asOf && !Number.isNaN(Date.parse(asOf)), `data-as-of datetime: ${asOf}`);
        const rows = await page.locator('[data-testid="campaign-row"]').count();
        assert.ok(rows > 0, "campaign rows");
      });

      await t.step("the session cookie is HttpOnly and SameSite=Strict", async () => {
        const cookies = await context.cookies();
        const session = cookies.find((cookie) => cookie.name === "ca_session");
        assert.ok(session, "a session cookie");
        assert.equal(session.httpOnly, true);
        assert.equal(session.sameSite, "Strict");
        assert.equal(await page.evaluate(() => document.cookie.includes("ca_session")), false);
        assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
      });

      await t.step("the chart has drawn (non-background pixels)", async () => {
        const canvas = page.locator('[data-testid="chart-series"] canvas');
        const png = await canvas.screenshot();
        const drawn = await page.evaluate(async (base64) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const context = canvas.getContext("2d")!;
          context.drawImage(bitmap, 0, 0);
          const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
          const [r, g, b] = [data[0], data[1], data[2]];
          let different = 0;
          for (let i = 0; i < data.length; i += 4) {
            const distance = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) +
              Math.abs(data[i + 2] - b);
            if (distance > 30) different++;
          }
          return { different, total: data.length / 4 };
        }, png.toString("base64"));
        assert.ok(
          drawn.different > drawn.total * 0.01,
          `drawn pixels: ${drawn.different} of ${drawn.total}`,
        );
        if (Deno.env.get("UPDATE_DASHBOARD_SCREENSHOT")) {
          await page.screenshot({
            path: new URL("../../docs/dashboard.png", import.meta.url).pathname,
            fullPage: false,
          });
        }
      });

      await t.step("changing the range or the platform shows the API's numbers", async () => {
        const today = todayUtc();
        const from = shiftDay(today, -2);
        await page.fill('[data-testid="range-from"]', from);
        await page.fill('[data-testid="range-to"]', today);
        await page.dispatchEvent('[data-testid="range-to"]', "change");
        await tilesEqualApi(page, server, { from, to: today });
        assert.equal(await page.textContent("#chart-granularity"), "by hour");
        await page.selectOption('[data-testid="platform-filter"]', "google");
        const google = await tilesEqualApi(page, server, { from, to: today, platform: "google" });
        await page.selectOption('[data-testid="platform-filter"]', "");
        const all = await tilesEqualApi(page, server, { from, to: today });
        assert.notEqual(google.impressions, all.impressions);
        await page.selectOption('[data-testid="range-preset"]', "last7");
        await tilesEqualApi(page, server, { from: shiftDay(today, -6), to: today });
      });

      await t.step("pushed rows appear in the tiles within 2 s, without reload", async () => {
        await page.evaluate(() => (globalThis as unknown as { marker: number }).marker = 42);
        const today = todayUtc();
        const before = Number(
          await page.getAttribute('[data-testid="kpi-impressions"]', "data-value"),
        );
        const asOfBefore = await page.getAttribute('[data-testid="data-as-of"]', "datetime");
        const started = performance.now();
        const push = await fetch(base + PUSH_PATH, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify([{
            tenant_id: TENANT_A,
            platform: "google",
            account_id: "live-account",
            campaign_id: "live-campaign",
            campaign_name: "Live push",
            ts: `${today}T00:00:00Z`,
            impressions: 123_457,
            clicks: 100,
            conversions: "3",
            cost: "50.00",
            revenue: "80.00",
            currency: "USD",
            source: "push",
          }]),
        });
        assert.equal(push.status, 200);
        assert.equal((await push.json()).accepted, 1);
        await page.waitForFunction(
          (expected) =>
            document.querySelector('[data-testid="kpi-impressions"]')?.getAttribute(
              "data-value",
            ) ===
              expected,
          String(before + 123_457),
          { timeout: 2000, polling: 20 },
        );
        const ms = performance.now() - started;
        assert.ok(ms < 2000, `shown after ${ms} ms`);
        await tilesEqualApi(page, server, { from: shiftDay(today, -6), to: today });
        assert.equal(
          await page.evaluate(() => (globalThis as unknown as { marker: number }).marker),
          42,
          "no reload",
        );
        // "Data as of" moves once the whole view (tables too) has redrawn, just after the tiles.
        await page.waitForFunction(
          (previous) =>
            Date.parse(
              document.querySelector('[data-testid="data-as-of"]')?.getAttribute("datetime") ?? "",
            ) > Date.parse(previous),
          asOfBefore!,
          { timeout: 2000, polling: 20 },
        );
        const asOfAfter = await page.getAttribute('[data-testid="data-as-of"]', "datetime");
        assert.ok(Date.parse(asOfAfter!) > Date.parse(asOfBefore!), "data-as-of moved on");
      });

      await t.step("the campaigns table sorts from the keyboard", async () => {
        const header = page.locator('[data-testid="campaigns-table"] button[data-sort="clicks"]');
        await header.focus();
        await page.keyboard.press("Enter");
        await page.waitForSelector('th[aria-sort="descending"] button[data-sort="clicks"]');
        const clicks = await page.locator('[data-testid="campaign-row"] td:nth-child(8)')
          .allTextContents();
        const numbers = clicks.map((text) => Number(text.replace(/[^\d.]/g, "")));
        assert.deepEqual(
          numbers,
          [...numbers].sort((a, b) => b - a),
          "sorted by clicks, descending",
        );
        await page.keyboard.press("Enter");
        await page.waitForSelector('th[aria-sort="ascending"] button[data-sort="clicks"]');
      });

      await t.step("an API 503 shows a banner and keeps the numbers", async () => {
        const before = await page.getAttribute('[data-testid="kpi-impressions"]', "data-value");
        await page.route("**/insights?*", (route) =>
          route.fulfill({
            status: 503,
            contentType: "application/json",
            headers: { "Retry-After": "5" },
            body: JSON.stringify({ error: "database unavailable, retry later" }),
          }));
        await page.selectOption('[data-testid="platform-filter"]', "meta");
        const banner = page.locator("#banner");
        await banner.waitFor({ state: "visible" });
        assert.match(await banner.textContent() ?? "", /unavailable/);
        assert.equal(
          await page.getAttribute('[data-testid="kpi-impressions"]', "data-value"),
          before,
          "the last numbers stay",
        );
        await page.unroute("**/insights?*");
        // The browser logs each failed fetch: those 503s are this step's own doing.
        const expected = consoleErrors.filter((text) => /status of 503/.test(text));
        assert.ok(expected.length > 0);
        consoleErrors.splice(
          0,
          consoleErrors.length,
          ...consoleErrors.filter((text) => !expected.includes(text)),
        );
        await page.selectOption('[data-testid="platform-filter"]', "");
        await banner.waitFor({ state: "hidden" });
        await page.waitForSelector('[data-testid="campaign-row"]');
      });

      await t.step("a campaign row opens the campaign", async () => {
        const row = page.locator('[data-testid="campaign-row"]').first();
        const id = await row.getAttribute("data-campaign-id");
        await row.locator("td").nth(3).click();
        await page.waitForFunction((id) => location.hash.startsWith(`#/campaign/${id}`), id);
        await page.waitForFunction(() =>
          document.querySelector('[data-testid="campaign-kpi-impressions"]')?.getAttribute(
            "data-value",
          )
        );
        const params = new URLSearchParams({
          from: shiftDay(todayUtc(), -6),
          to: todayUtc(),
          tz: "UTC",
        });
        const api = await server.apiJson(`/campaign/${id}/insights?${params}`) as Insights;
        assert.equal(
          await page.getAttribute('[data-testid="campaign-kpi-impressions"]', "data-value"),
          String(api.totals.impressions),
        );
        await page.click("#campaign-back");
        await page.waitForSelector('[data-testid="campaigns-table"] [data-testid="campaign-row"]');
      });

      await t.step("the ask box answers, with the parsed query as chips", async () => {
        await page.fill('[data-testid="ask-input"]', "What was the total spend last 7 days?");
        await page.click('[data-testid="ask-submit"]');
        const reply = page.locator('[data-testid="ask-reply"]').last();
        await reply.waitFor({ state: "visible" });
        const text = await reply.textContent() ?? "";
        assert.match(text, /spent|spend/i);
        assert.doesNotMatch(text, /No answer/);
        const chips = await page.locator('[data-testid="ask-chip"]').allTextContents();
        assert.ok(chips.some((chip) => /→/.test(chip)), `date chip in ${chips}`);
        assert.ok(
          await page.locator('[data-testid="ask-open"]').count() > 0,
          "a link to the overview",
        );
      });

      await t.step("a cross-origin POST carrying the cookie is refused", async () => {
        // Another origin on the same host: the same site, so SameSite lets the cookie go
        // along; the Origin check must refuse it.
        const evil = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen: () => {} },
          () =>
            new Response(
              `<!doctype html><script>
              fetch(${JSON.stringify(base + PUSH_PATH)}, {
                method: "POST", mode: "no-cors", credentials: "include",
                headers: { "Content-Type": "text/plain" },
                body: JSON.stringify([{ tenant_id: "tenant-a", platform: "google",
                  account_id: "evil", campaign_id: "evil", campaign_name: "Evil",
                  ts: new Date().toISOString().slice(0, 13) + ":00:00Z",
                  impressions: 999, clicks: 1, conversions: "0", cost: "1.00",
                  revenue: "0.00", currency: "USD", source: "push" }]),
              }).finally(() => document.title = "sent");
            </script>`,
              { headers: { "Content-Type": "text/html" } },
            ),
        );
        try {
          const attacker = await context.newPage();
          const before = server.seen.length;
          await attacker.goto(`http://127.0.0.1:${evil.addr.port}/`);
          await attacker.waitForFunction(() => document.title === "sent");
          await attacker.close();
          const posts = server.seen.slice(before).filter((r) => r.path === PUSH_PATH);
          assert.deepEqual(
            posts.map(({ method, origin, sessionCookie, status }) => ({
              method,
              origin,
              sessionCookie,
              status,
            })),
            [{
              method: "POST",
              origin: `http://127.0.0.1:${evil.addr.port}`,
              sessionCookie: true,
              status: 403,
            }],
            "the browser sent the cookie along, and the server refused",
          );
          const campaigns = await server.apiJson("/insights?group_by=campaign&limit=1000") as {
            groups: { campaign_id: string }[];
          };
          assert.equal(campaigns.groups.some((group) => group.campaign_id === "evil"), false);
        } finally {
          await evil.shutdown();
        }
        // The same request with the cookie, answered where it can be read: 403.
        const viaContext = await context.request.post(base + PUSH_PATH, {
          headers: { Origin: "http://127.0.0.1:1", "Content-Type": "text/plain" },
          data: "[]",
        });
        assert.equal(viaContext.status(), 403);
        assert.equal((await viaContext.json()).error, "cross-origin request refused");
      });

      await t.step("the sources view lists the sources and rejected rows", async () => {
        await fetch(base + PUSH_PATH, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify([{ tenant_id: TENANT_A, platform: "google" }]),
        }).then((response) => response.body?.cancel());
        await page.click("#nav-sources");
        const reject = page.locator('[data-testid="reject-row"]').first();
        await reject.waitFor({ state: "visible" });
        assert.match(await reject.textContent() ?? "", /push/);
        assert.ok(await page.locator('[data-testid="sources-table"] tr').count());
      });

      await t.step("no console errors and no request to another origin", () => {
        assert.deepEqual(consoleErrors, []);
        assert.deepEqual(foreignRequests, []);
      });

      await t.step("at 390 px nothing scrolls sideways; every filter is labelled", async () => {
        const phone = await browser!.newContext({
          viewport: { width: 390, height: 844 },
          timezoneId: "UTC",
          deviceScaleFactor: 1,
        });
        const small = await phone.newPage();
        await signIn(small, base);
        await small.waitForSelector("html[data-ready]");
        await small.waitForSelector('[data-testid="campaign-row"]');
        const { scrollWidth, innerWidth } = await small.evaluate(() => ({
          scrollWidth: document.scrollingElement!.scrollWidth,
          innerWidth: globalThis.innerWidth,
        }));
        assert.ok(scrollWidth <= innerWidth, `scrollWidth ${scrollWidth} > ${innerWidth}`);
        // Every filter is a labelled control.
        for (
          const id of ["range-preset", "range-from", "range-to", "platform-filter", "time-zone"]
        ) {
          assert.ok(await small.locator(`label[for="${id}"]`).count(), `label for ${id}`);
        }
        await phone.close();
      });
    } finally {
      await browser?.close();
      await server.close();
    }
  },
});
