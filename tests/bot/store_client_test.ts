/**
 * The store-backed client (what `answerPromptWithStore` uses) answers like the API app:
 * for the same prompts, the same requests, data and reply as the in-process HTTP client.
 */
import assert from "node:assert/strict";
import { answerPrompt } from "../../lib/bot/answer.ts";
import { createInProcessAnalyticsClient } from "../../lib/bot/client.ts";
import { createStoreAnalyticsClient } from "../../lib/bot/store_client.ts";
import { KEY_A } from "../support/test_app.ts";
import { fakeApp, NOW, seededApp } from "./fixtures.ts";

const PROMPTS = [
  "What was my ROAS last week?",
  "How much did I spend on Google this month?",
  "cpa for cmp-42 yesterday",
  "What's the ROAS for my latest Google campaign?",
  "roas for the blck fridy campaign",
  "how many clicks on tiktok",
  "show me the ctr trend on google",
  "weekly spend trend this month",
  "compare platforms by roas last week",
  "spend this week vs last week",
  "top 3 campaigns by revenue this month",
  "worst campaigns by cpa last month",
  "list my meta campaigns",
  "roas for cmp-does-not-exist",
  "what is cpm",
];

for (const [name, make] of [["seeded", seededApp], ["fake", fakeApp]] as const) {
  Deno.test(`store client: same answers as the API app (${name} data)`, async () => {
    const { app, store, dispose } = await make();
    try {
      for (const prompt of PROMPTS) {
        for (const timeZone of [undefined, "America/New_York"]) {
          const viaApp = await answerPrompt(prompt, {
            client: createInProcessAnalyticsClient({
              request: (r) => Promise.resolve(app.request(r)),
              token: KEY_A,
              tenant: "tenant-a",
            }),
            now: NOW,
            timeZone,
          });
          const viaStore = await answerPrompt(prompt, {
            client: createStoreAnalyticsClient(store, { tenantId: "tenant-a", timeZone }),
            now: NOW,
            timeZone,
          });
          assert.deepEqual(viaStore.data, viaApp.data, `${prompt} (${timeZone})`);
          assert.equal(viaStore.reply, viaApp.reply, `${prompt} (${timeZone})`);
        }
      }
    } finally {
      await dispose();
    }
  });
}
