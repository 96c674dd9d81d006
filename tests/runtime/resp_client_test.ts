/**
 * The native RESP2 client (runtime/resp_client.ts): the parser on hand-made bytes (each
 * reply type, nulls, errors inside arrays, replies cut at every byte), then against the
 * shared Redis (TEST_REDIS_URL: each reply type, an error reply, the order of replies
 * under concurrency, text that is not ASCII), and against a redis-server of its own
 * (stopped while a command waits: that command rejects, the client reconnects; AUTH and
 * SELECT from the URL). Keys carry a unique prefix per run and are deleted afterwards.
 */
import assert from "node:assert/strict";
import {
  encodeCommand,
  parseRedisUrl,
  RedisConnectionError,
  RedisReplyError,
  RespClient,
  RespParser,
  type RespValue,
} from "../../runtime/resp_client.ts";
import { IN_CI, redisMissing, TEST_REDIS_URL, uniqueName } from "../support/databases.ts";
import {
  freePort,
  redisServerInstalled,
  startRedisServer,
  stopRedisServer,
} from "../support/redis.ts";

const encoder = new TextEncoder();

function parseAll(chunks: Uint8Array[]): RespValue[] {
  const parser = new RespParser();
  const values: RespValue[] = [];
  for (const chunk of chunks) {
    parser.feed(chunk);
    let reply;
    while ((reply = parser.next()) !== undefined) values.push(reply.value);
    parser.keepUnread();
  }
  return values;
}

const SAMPLE = "+OK\r\n-ERR wrong\r\n:-42\r\n:7\r\n$4\r\nhé!\r\n$-1\r\n$0\r\n\r\n*-1\r\n*0\r\n" +
  "*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n-NOSCRIPT no script\r\n";

function checkSample(values: RespValue[]): void {
  assert.equal(values.length, 10);
  assert.equal(values[0], "OK");
  assert.ok(values[1] instanceof RedisReplyError);
  assert.equal((values[1] as Error).message, "ERR wrong");
  assert.equal(values[2], -42);
  assert.equal(values[3], 7);
  assert.equal(values[4], "hé!", "a bulk length counts bytes, not characters");
  assert.equal(values[5], null);
  assert.equal(values[6], "");
  assert.equal(values[7], null, "a null array");
  assert.deepEqual(values[8], []);
  const nested = values[9] as RespValue[];
  assert.equal(nested[0], "a");
  assert.deepEqual(nested[1], [1, null]);
  assert.ok(nested[2] instanceof RedisReplyError, "an error inside an array is a value there");
}

Deno.test("RESP parser: every reply type, whole and cut at every byte", () => {
  const bytes = encoder.encode(SAMPLE);
  checkSample(parseAll([bytes]));
  checkSample(parseAll([...bytes].map((byte) => Uint8Array.of(byte))));
  for (let cut = 1; cut < bytes.length; cut++) {
    checkSample(parseAll([bytes.slice(0, cut), bytes.slice(cut)]));
  }
});

Deno.test("RESP parser: a long bulk string and a reused read buffer", () => {
  const text = "x€".repeat(40_000);
  const body = encoder.encode(text);
  const bytes = encoder.encode(`$${body.length}\r\n${text}\r\n+PONG\r\n`);
  // The client reads into one buffer it reuses: the parser must copy what it keeps.
  const shared = new Uint8Array(1000);
  const parser = new RespParser();
  const values: RespValue[] = [];
  for (let at = 0; at < bytes.length; at += shared.length) {
    const piece = bytes.subarray(at, at + shared.length);
    shared.set(piece);
    parser.feed(shared.subarray(0, piece.length));
    let reply;
    while ((reply = parser.next()) !== undefined) values.push(reply.value);
    parser.keepUnread();
    shared.fill(0);
  }
  assert.deepEqual(values, [text, "PONG"]);
});

Deno.test("RESP parser: a byte no RESP2 reply starts with is a protocol error", () => {
  const parser = new RespParser();
  parser.feed(encoder.encode("HTTP/1.1 400\r\n"));
  assert.throws(() => parser.next(), RedisConnectionError);
});

Deno.test("RESP encoding: byte lengths of ASCII and non-ASCII arguments", () => {
  const decoded = new TextDecoder().decode(encodeCommand(["SET", "k", "é€😀"]));
  assert.equal(decoded, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9\r\né€😀\r\n");
});

Deno.test("Redis URLs: TLS, credentials, database", () => {
  assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6379"), {
    tls: false,
    hostname: "127.0.0.1",
    port: 6379,
  });
  assert.deepEqual(parseRedisUrl("rediss://user:p%40ss@cache.example:6380/3"), {
    tls: true,
    hostname: "cache.example",
    port: 6380,
    username: "user",
    password: "p@ss",
    database: 3,
  });
  assert.deepEqual(parseRedisUrl("redis://:secret@[::1]/0"), {
    tls: false,
    hostname: "::1",
    port: 6379,
    password: "secret",
  });
  assert.throws(() => parseRedisUrl("redis://host/cache"), /database number/);
  assert.throws(() => parseRedisUrl("http://host"), /redis:\/\//);
});

Deno.test({
  name: "RESP client against the shared Redis",
  ignore: redisMissing,
  async fn(t) {
    const client = new RespClient(TEST_REDIS_URL!);
    const prefix = `${uniqueName("resp")}:`;
    try {
      assert.ok(await client.waitUntilReady(5_000));
      await t.step("replies of each type", async () => {
        assert.equal(await client.sendCommand(["PING"]), "PONG");
        assert.equal(await client.sendCommand(["SET", `${prefix}s`, "é€😀"]), "OK");
        assert.equal(await client.sendCommand(["GET", `${prefix}s`]), "é€😀");
        assert.equal(await client.sendCommand(["GET", `${prefix}missing`]), null);
        assert.equal(await client.sendCommand(["INCRBY", `${prefix}n`, "-5"]), -5);
        assert.equal(await client.sendCommand(["RPUSH", `${prefix}l`, "a", "", "c"]), 3);
        assert.deepEqual(await client.sendCommand(["LRANGE", `${prefix}l`, "0", "-1"]), [
          "a",
          "",
          "c",
        ]);
        // The cache's lookup script answers {version, false}: false comes back as null.
        assert.deepEqual(
          await client.sendCommand(["EVAL", "return {ARGV[1], false, {1, 'x'}}", "0", "v"]),
          ["v", null, [1, "x"]],
        );
      });
      await t.step("an error reply rejects that command only", async () => {
        const failing = client.sendCommand(["INCR", `${prefix}s`]);
        const after = client.sendCommand(["GET", `${prefix}s`]);
        await assert.rejects(failing, (error: Error) => {
          assert.ok(error instanceof RedisReplyError);
          assert.match(error.message, /^ERR .*not an integer/);
          return true;
        });
        assert.equal(await after, "é€😀", "the next reply goes to the next command");
        await assert.rejects(
          client.sendCommand(["EVALSHA", "0".repeat(40), "0"]),
          /NOSCRIPT/,
          "the cache falls back to EVAL on this message",
        );
      });
      await t.step("replies matched in order under concurrency", async () => {
        const count = 2_000;
        const sets = Array.from(
          { length: count },
          (_, i) => client.sendCommand(["SET", `${prefix}k${i}`, `value ${i} ${"x".repeat(i)}`]),
        );
        assert.ok((await Promise.all(sets)).every((reply) => reply === "OK"));
        // Interleaved kinds of reply, issued from separate tasks as requests would be.
        const reads = await Promise.all(Array.from({ length: count }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i % 7));
          return i % 3 === 0
            ? client.sendCommand(["STRLEN", `${prefix}k${i}`])
            : client.sendCommand(["GET", `${prefix}k${i}`]);
        }));
        reads.forEach((reply, i) => {
          const expected = `value ${i} ${"x".repeat(i)}`;
          assert.equal(reply, i % 3 === 0 ? expected.length : expected);
        });
      });
    } finally {
      const keys = await client.sendCommand(["KEYS", `${prefix}*`]) as string[];
      if (keys.length > 0) await client.sendCommand(["DEL", ...keys]);
      await client.close();
    }
    await assert.rejects(client.sendCommand(["PING"]), RedisConnectionError);
  },
});

const redisServerMissing = !redisServerInstalled && !IN_CI;

Deno.test({
  name: "RESP client: a server stop rejects waiting commands, then it reconnects",
  ignore: redisServerMissing,
  async fn() {
    const port = freePort();
    let server = await startRedisServer(port);
    const client = new RespClient(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 });
    try {
      assert.ok(await client.waitUntilReady(5_000));
      // Commands that wait on the server when it goes away.
      // (Outcomes taken at once: they settle while the server is being stopped.)
      const blocked = client.sendCommand(["BLPOP", "never-pushed", "30"]).catch((e) => e);
      const queued = client.sendCommand(["PING"]).catch((e) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stopRedisServer(server);
      assert.ok(await blocked instanceof RedisConnectionError);
      assert.ok(await queued instanceof RedisConnectionError);
      // While it is down, a command fails at once instead of queueing.
      await assert.rejects(client.sendCommand(["PING"]), RedisConnectionError);
      server = await startRedisServer(port);
      assert.ok(await client.waitUntilReady(10_000), "reconnected by itself");
      assert.equal(await client.sendCommand(["PING"]), "PONG");
    } finally {
      await client.close();
      await stopRedisServer(server);
    }
  },
});

Deno.test({
  name: "RESP client: AUTH and SELECT from the URL; a wrong password never gets ready",
  ignore: redisServerMissing,
  async fn() {
    const port = freePort();
    const server = await startRedisServer(port, ["--requirepass", "s3cret"]);
    const client = new RespClient(`redis://:s3cret@127.0.0.1:${port}/2`);
    const other = new RespClient(`redis://default:s3cret@127.0.0.1:${port}`);
    const wrong = new RespClient(`redis://:nope@127.0.0.1:${port}`, { connectTimeoutMs: 300 });
    try {
      assert.ok(await client.waitUntilReady(5_000));
      assert.ok(await other.waitUntilReady(5_000));
      assert.equal(await client.sendCommand(["SET", "where", "db2"]), "OK");
      assert.equal(await other.sendCommand(["GET", "where"]), null, "database 0 has no key");
      assert.equal(await other.sendCommand(["SELECT", "2"]), "OK");
      assert.equal(await other.sendCommand(["GET", "where"]), "db2");
      assert.equal(await wrong.waitUntilReady(500), false);
      await assert.rejects(wrong.sendCommand(["PING"]), RedisConnectionError);
    } finally {
      await Promise.all([client.close(), other.close(), wrong.close()]);
      await stopRedisServer(server);
    }
  },
});

Deno.test("RESP client: nothing listening fails fast and never gets ready", async () => {
  const client = new RespClient(`redis://127.0.0.1:${freePort()}`, { connectTimeoutMs: 200 });
  try {
    assert.equal(await client.waitUntilReady(300), false);
    await assert.rejects(client.sendCommand(["PING"]), RedisConnectionError);
  } finally {
    await client.close();
  }
});
