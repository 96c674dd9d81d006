/** Redis housekeeping for tests: every run writes under its own key prefix and removes it. */
import type { RedisCommandClient } from "../../lib/cache/redis.ts";
import { createRedisClient } from "../../runtime/cache_wiring.ts";
import { TEST_REDIS_URL } from "./databases.ts";

/** Deletes every key under `prefix` through `client`; answers how many went. */
export async function deleteKeysWith(client: RedisCommandClient, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.sendCommand(
      ["SCAN", cursor, "MATCH", `${prefix}*`, "COUNT", "1000"],
    ) as [string, string[]];
    cursor = next;
    if (keys.length > 0) deleted += await client.sendCommand(["UNLINK", ...keys]) as number;
  } while (cursor !== "0");
  return deleted;
}

/** Deletes every key under `prefix` on the test Redis (TEST_REDIS_URL). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = createRedisClient(TEST_REDIS_URL!);
  try {
    await client.waitUntilReady(5_000);
    await deleteKeysWith(client, prefix);
  } finally {
    await client.close();
  }
}
