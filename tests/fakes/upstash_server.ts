/**
 * A stand-in for Upstash's REST endpoint in front of a real Redis, so the Upstash
 * adapter is tested with the real @upstash/redis client and real Redis semantics.
 * Commands are forwarded with the same node-redis client the TCP adapter uses.
 *
 * The protocol, as @upstash/redis 1.x speaks it (pkg/http.ts):
 * - `POST /` with a JSON array `["SET", "k", "v"]` → `{"result": ...}`, or
 *   `{"error": "..."}` with status 400 when Redis answers an error;
 * - `POST /pipeline` with an array of such arrays → an array of `{result}` / `{error}`;
 * - `Authorization: Bearer <token>` required, 401 otherwise;
 * - with `Upstash-Encoding: base64` (the client's default) every string in a result is
 *   base64 of its UTF-8 bytes, except the status reply "OK" which the client keeps as is;
 *   integers and nulls are left alone, arrays are encoded element by element.
 */
import { z } from "zod";
import { createRedisClient } from "../../runtime/cache_wiring.ts";

export interface FakeUpstash {
  /** Base URL to give @upstash/redis. */
  url: string;
  token: string;
  /** HTTP requests answered so far (a pipeline counts once). */
  readonly requests: number;
  close(): Promise<void>;
}

const ArgumentSchema = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const CommandSchema = z.array(ArgumentSchema).min(1);
const PipelineSchema = z.array(CommandSchema).min(1);

type Outcome = { result: unknown } | { error: string };

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function encodeResult(value: unknown): unknown {
  if (typeof value === "string") return value === "OK" ? value : base64(value);
  if (Array.isArray(value)) return value.map(encodeResult);
  return value;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export async function startFakeUpstash(
  options: { redisUrl: string; token?: string },
): Promise<FakeUpstash> {
  const token = options.token ?? crypto.randomUUID();
  const redis = createRedisClient(options.redisUrl);
  if (!await redis.waitUntilReady(5_000)) {
    await redis.close();
    throw new Error(`fake Upstash: Redis at ${options.redisUrl} is not reachable`);
  }
  let requests = 0;

  const run = async (command: string[], encode: boolean): Promise<Outcome> => {
    try {
      const result = await redis.sendCommand(command);
      return { result: encode ? encodeResult(result) : result };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const handler = async (request: Request): Promise<Response> => {
    requests++;
    if (request.headers.get("authorization") !== `Bearer ${token}`) {
      return json({ error: "Unauthorized" }, 401);
    }
    if (request.method !== "POST") return json({ error: "method not allowed" }, 405);
    const encode = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return json({ error: "ERR body is not JSON" }, 400);
    }
    const path = new URL(request.url).pathname;
    if (path === "/" || path === "") {
      const command = CommandSchema.safeParse(body);
      if (!command.success) return json({ error: "ERR expected a JSON array of arguments" }, 400);
      const outcome = await run(command.data, encode);
      return json(outcome, "error" in outcome ? 400 : 200);
    }
    if (path === "/pipeline") {
      const commands = PipelineSchema.safeParse(body);
      if (!commands.success) return json({ error: "ERR expected an array of commands" }, 400);
      // Issued together, node-redis writes them back to back on one connection, in order.
      return json(await Promise.all(commands.data.map((command) => run(command, encode))));
    }
    return json({ error: `no such endpoint ${path}` }, 404);
  };

  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    get requests() {
      return requests;
    },
    async close() {
      await server.shutdown();
      await redis.close();
    },
  };
}
