/**
 * `main.ts ingest --source <platform>` from the command line, configured only by
 * environment variables, against fake platform servers: after the sync the stored
 * totals equal what each server served, exactly.
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { pgliteDriver } from "../../lib/store/driver.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import {
  type FakePlatformServer,
  makeDataset,
  storeTotalsByCurrency,
} from "../fakes/ad_platform.ts";
import { startFakeMeta } from "../fakes/meta_server.ts";
import { startFakeGoogle } from "../fakes/google_server.ts";
import { startFakeLinkedIn } from "../fakes/linkedin_server.ts";
import { startFakeTikTok } from "../fakes/tiktok_server.ts";
import type { Platform } from "../../lib/schema.ts";
import { runMain } from "../support/services.ts";

const WINDOW = { from: "2024-03-01", to: "2024-04-09" };

function dataset(accountIds: string[]) {
  return makeDataset({
    accounts: accountIds.map((id, i) => ({
      id,
      currency: i === 0 ? "USD" : "EUR",
      timeZone: i === 0 ? "America/New_York" : "Europe/Berlin",
    })),
    campaignsPerAccount: 2,
    from: WINDOW.from,
    days: 40,
  });
}

interface Case {
  platform: Platform;
  server: FakePlatformServer;
  env: Record<string, string>;
}

function cases(): Case[] {
  const meta = startFakeMeta({ dataset: dataset(["1010101", "2020202"]) });
  const google = startFakeGoogle({ dataset: dataset(["1234567890"]) });
  const linkedin = startFakeLinkedIn({ dataset: dataset(["507777777"]) });
  const tiktok = startFakeTikTok({ dataset: dataset(["7000000000000000001"]) });
  return [
    {
      platform: "meta",
      server: meta,
      env: {
        META_ACCESS_TOKEN: meta.token,
        META_AD_ACCOUNT_IDS: "act_1010101,2020202",
        META_API_BASE_URL: meta.url,
      },
    },
    {
      platform: "google",
      server: google,
      env: {
        GOOGLE_ADS_DEVELOPER_TOKEN: google.developerToken,
        GOOGLE_ADS_CLIENT_ID: google.clientId,
        GOOGLE_ADS_CLIENT_SECRET: google.clientSecret,
        GOOGLE_ADS_REFRESH_TOKEN: google.refreshToken,
        GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
        GOOGLE_ADS_API_BASE_URL: google.url,
        GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      },
    },
    {
      platform: "linkedin",
      server: linkedin,
      env: {
        LINKEDIN_ACCESS_TOKEN: linkedin.token,
        LINKEDIN_AD_ACCOUNT_IDS: "urn:li:sponsoredAccount:507777777",
        LINKEDIN_API_BASE_URL: linkedin.url,
      },
    },
    {
      platform: "tiktok",
      server: tiktok,
      env: {
        TIKTOK_ACCESS_TOKEN: tiktok.token,
        TIKTOK_ADVERTISER_IDS: "7000000000000000001",
        TIKTOK_API_BASE_URL: tiktok.url,
      },
    },
  ];
}

function ingest(env: Record<string, string>, args: string[]) {
  return runMain(["ingest", ...args], env, { clearEnv: true });
}

Deno.test({
  name: "deno task ingest --source <platform> with only environment variables",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "ingest-cli-" });
    const all = cases();
    const baseEnv = {
      DATA_DIR: dataDir,
      DATA_SOURCE: "real",
      ENABLED_SOURCES: "meta,google,linkedin,tiktok",
      INGEST_TENANT: "cli",
      LOG_LEVEL: "warn",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`,
      ...Object.assign({}, ...all.map((c) => c.env)),
    };
    try {
      for (const { platform } of all) {
        await t.step(`--source ${platform}`, async () => {
          const result = await ingest(baseEnv, [
            "--source",
            platform,
            "--from",
            WINDOW.from,
            "--to",
            WINDOW.to,
          ]);
          assert.equal(result.code, 0, result.stderr);
          const reports = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
          assert.ok(reports.length >= 1);
          for (const report of reports) {
            assert.equal(report.source, platform);
            assert.equal(report.status, "succeeded", JSON.stringify(report));
          }
        });
      }
      await t.step("a bad token fails that source with a message naming the variable", async () => {
        const meta = all[0];
        const result = await ingest(
          { ...baseEnv, META_ACCESS_TOKEN: "revoked-token-value-123" },
          ["--source", "meta", "--from", WINDOW.from, "--to", WINDOW.to],
        );
        assert.equal(result.code, 1);
        const text = result.stdout + result.stderr;
        assert.match(text, /META_ACCESS_TOKEN/);
        assert.ok(!text.includes("revoked-token-value-123"), "the secret never appears");
        assert.ok(meta.server.requests.length > 0);
      });
      await t.step(
        "a source enabled without credentials stops start-up naming what is missing",
        async () => {
          const result = await ingest(
            { ...baseEnv, TIKTOK_ACCESS_TOKEN: "", TIKTOK_ADVERTISER_IDS: "" },
            ["--source", "tiktok"],
          );
          assert.equal(result.code, 2);
          assert.match(result.stderr, /TIKTOK_ACCESS_TOKEN/);
          assert.match(result.stderr, /TIKTOK_ADVERTISER_IDS/);
        },
      );
      await t.step("stored totals equal each server's totals exactly", async () => {
        const db = pgliteDriver(await PGlite.create(`${dataDir}/pglite`));
        try {
          const store = new SqlMetricsStore(db);
          for (const { platform, server } of all) {
            const stored = await store.totals({ tenantId: "cli", platforms: [platform] });
            assert.deepEqual(storeTotalsByCurrency(stored), server.totals(), platform);
            assert.deepEqual(server.violations, [], `${platform} protocol violations`);
          }
        } finally {
          await db.close();
        }
      });
    } finally {
      await Promise.all(all.map((c) => c.server.close()));
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
