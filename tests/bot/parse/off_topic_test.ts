import assert from "node:assert/strict";
import { isOffTopicMention } from "../../../lib/bot/parse/off_topic.ts";
import { parsePrompt, readSignals } from "../../../lib/bot/parse/parse.ts";

const NOW = new Date("2024-04-24T10:00:00Z");

Deno.test("isOffTopicMention: platform or metric words in messages about something else", () => {
  for (
    const prompt of [
      "what's the conversion rate from USD to EUR today?",
      "how much does a google pixel 8 cost",
      "how much does google ads cost",
      "how much is tiktok worth",
      "is tiktok getting banned in the us?",
      "did you see the news about instagram's new algorithm?",
      "who founded linkedin",
      "is a 2% ctr good on tiktok?",
      "what's a good roas for ecommerce",
      "what's the average cpc in my industry",
      "is facebook down?",
      "is instagram part of meta",
      "will google ads prices go up next year",
      "how many platforms do you track",
      "how does the facebook ads auction work",
      "is google's new pixel worth buying",
    ]
  ) {
    assert.ok(isOffTopicMention(readSignals(prompt, { now: NOW })), prompt);
    assert.equal(parsePrompt(prompt, { now: NOW }).intent, "unknown", prompt);
  }
});

Deno.test("isOffTopicMention: questions about the user's own ads are not", () => {
  for (
    const prompt of [
      "how much does a click cost on google",
      "how much did we spend on google ads",
      "conversion rate on meta last week",
      "is spend down this week",
      "break that down by platform",
      "what's the average cpc this month",
      "spend for the news roundup campaign",
    ]
  ) {
    assert.ok(!isOffTopicMention(readSignals(prompt, { now: NOW })), prompt);
  }
});

Deno.test("requests to do things and advice stay unknown, even with a date", () => {
  for (
    const prompt of [
      "pause my meta campaign",
      "book a meeting with our google rep",
      "export last month's spend to csv",
      "tips to improve conversion rate on meta",
      "how do i improve my ctr",
    ]
  ) {
    assert.equal(parsePrompt(prompt, { now: NOW }).intent, "unknown", prompt);
  }
});
