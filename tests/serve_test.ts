/**
 * `main.ts serve` as a user runs it: a real process on embedded defaults (PGlite,
 * memory cache, fake data), reached over HTTP, stopped with SIGTERM.
 */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Running {
  port: number;
  output: () => string;
  stop: (signal?: Deno.Signal) => Promise<Deno.CommandStatus>;
}

async function startServe(env: Record<string, string>): Promise<Running> {
  const dataDir = await Deno.makeTempDir({ prefix: "serve-test-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", MAIN, "serve"],
    env: { PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const deadline = Date.now() + 60_000;
  let port = 0;
  while (!port && Date.now() < deadline) {
    const match = /"msg":"listening","port":(\d+)/.exec(text);
    if (match) port = Number(match[1]);
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!port) {
    child.kill();
    throw new Error(`serve did not start:\n${text}`);
  }
  return {
    port,
    output: () => text,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const status = await child.status;
      await pumping;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      return status;
    },
  };
}

async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

Deno.test({
  name: "serve with no configuration: never open, fake data flowing, totals growing, clean stop",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServe({ FAKE_INTERVAL_MS: "500", FAKE_BACKFILL_DAYS: "2" });
    try {
      const key = /accepts the generated key (\S+)/.exec(server.output())?.[1];
      assert.ok(key, "a generated key is printed once");
      const base = `http://127.0.0.1:${server.port}`;
      const open = await fetch(`${base}/campaigns`);
      assert.equal(open.status, 401, "the API is never open");
      await open.body?.cancel();
      const headers = { Authorization: `Bearer ${key}` };
      const totals = async () => {
        const response = await fetch(`${base}/insights`, { headers });
        if (response.status !== 200) {
          await response.body?.cancel();
          return undefined;
        }
        const body = await response.json();
        const impressions = body.by_currency
          ? body.by_currency.reduce(
            (sum: number, c: { impressions: number }) => sum + c.impressions,
            0,
          )
          : body.totals.impressions;
        return impressions > 0 ? impressions as number : undefined;
      };
      const first = await waitFor(totals);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const second = await waitFor(totals);
      assert.ok(second > first, `totals grow between two reads 5 s apart (${first} → ${second})`);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
    } finally {
      const status = await server.stop("SIGTERM");
      assert.equal(status.code, 0, `graceful stop:\n${server.output().slice(-2000)}`);
      assert.match(server.output(), /"msg":"stopped"/);
    }
  },
});

Deno.test({
  name: "serve refuses to start on an invalid variable and names it",
  async fn() {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve"],
      env: { FAKE_INTERVAL_MS: "soon", PORT: "0" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 2);
    assert.match(new TextDecoder().decode(result.stderr), /FAKE_INTERVAL_MS/);
  },
});
