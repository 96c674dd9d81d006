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

/** Whether a redis-server binary is on PATH (tests that start their own are skipped without one). */
export const redisServerInstalled = (() => {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

/** A free TCP port on 127.0.0.1 (for a private redis-server). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** A redis-server of the test's own (never the shared one) on `port`, once it accepts. */
export async function startRedisServer(
  port: number,
  extra: string[] = [],
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      ...extra,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return child;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  child.kill();
  await child.status;
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Stops a server from startRedisServer (SIGKILL: a crash, as far as clients can tell). */
export async function stopRedisServer(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already gone */ }
  await child.status;
}
