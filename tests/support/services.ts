/**
 * Private servers and processes for end-to-end tests: a PostgreSQL cluster and a
 * Redis of the test's own (so they can be restarted or killed without disturbing
 * anything else on the machine), and `main.ts serve` replicas.
 */
import postgres from "postgres";

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

function postgresBin(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((entry) => entry.name).sort();
    const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
    Deno.statSync(`${bin}/initdb`);
    return bin;
  } catch {
    return undefined;
  }
}

function onPath(binary: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${binary}`).isFile;
    } catch {
      return false;
    }
  });
}

/** True when this machine can run private PostgreSQL and Redis servers. */
export const privateServersAvailable = Boolean(postgresBin()) && onPath("redis-server") &&
  onPath("runuser") && Deno.uid?.() === 0;

export interface PrivatePostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

/** A throwaway cluster (initdb as the postgres user, trust auth, fsync off). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL server binaries not found");
  const dir = await Deno.makeTempDir({ prefix: "pg-private-" });
  await run("chown", ["postgres", dir]);
  const data = `${dir}/data`;
  const port = freePort();
  const asPostgres = (tool: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", `${bin}/${tool}`, ...args]);
  await asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off ` +
    "-c full_page_writes=off -c max_connections=200";
  const start = () =>
    asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", `${dir}/log`, "-w", "start"]).then(
      () => {},
    );
  const stop = () => asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).then(() => {});
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    restart: () =>
      asPostgres("pg_ctl", ["-D", data, "-o", options, "-m", "fast", "-w", "restart"]).then(
        () => {},
      ),
    async destroy() {
      await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export interface PrivateRedis {
  url: string;
  kill(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("private redis-server did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let killed = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (killed) return;
      killed = true;
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

export interface Replica {
  pid: number;
  port: number;
  base: string;
  output(): string;
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `main.ts <command> ...` to completion (ingest, ask, a serve that refuses to start). */
export async function runMain(
  args: string[],
  env: Record<string, string>,
  options: { clearEnv?: boolean } = {},
): Promise<CommandResult> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    clearEnv: options.clearEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** `main.ts serve` as a child process; resolves once it listens. */
export async function startReplica(
  env: Record<string, string>,
  options: { startTimeoutMs?: number } = {},
): Promise<Replica> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-cron", MAIN, "serve"],
    env: { PORT: "0", LOG_LEVEL: "info", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let port = 0;
  while (!port) {
    const match = /"msg":"listening","port":(\d+)/.exec(text);
    if (match) port = Number(match[1]);
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`replica did not start:\n${text}`);
    } else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let status: Promise<Deno.CommandStatus> | undefined;
  return {
    pid: child.pid,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => text,
    kill(signal: Deno.Signal = "SIGTERM") {
      if (!status) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
        status = child.status.then(async (result) => {
          await pumping;
          return result;
        });
      }
      return status;
    },
  };
}

/** Polls until `read` yields a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${lastError ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function adminClient(url: string) {
  return postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 2 });
}
