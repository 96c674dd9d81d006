/**
 * No Docker engine runs here, so the deployment files are checked by reading them:
 * docker-compose.yml (parsed with `yaml`, interpolated as Compose does with no variables
 * set), deploy/nginx.conf, the Dockerfile and .dockerignore. Then the documentation
 * (README.md and docs/*.md): every environment variable the code reads, and every one the
 * compose file offers, must be documented there, and every `deno task` it mentions must exist.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { AppConfigSchema, loadAppConfig } from "../../lib/config.ts";
import { IngestConfigSchema, loadIngestConfig } from "../../ingest/ingest_settings.ts";
import { CacheEnvSchema, cacheSettingsFromEnv } from "../../lib/cache/settings.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

// ---------------------------------------------------------------------------------------
// Compose: parsing and interpolation
// ---------------------------------------------------------------------------------------

type Env = Record<string, string>;

interface Healthcheck {
  test: string | string[];
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Env | string[];
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  expose?: string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: Healthcheck;
  profiles?: string[];
  volumes?: (string | { type: string; source: string; target: string })[];
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const VARIABLE =
  /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Compose's interpolation of one string: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`. */
function interpolate(text: string, vars: Env): string {
  return text.replace(VARIABLE, (match, braced, operator, argument, bare) => {
    if (match === "$$") return "$";
    const name = braced ?? bare;
    const value = vars[name];
    switch (operator) {
      case ":-":
        return value ? value : argument;
      case "-":
        return value ?? argument;
      case ":?":
      case "?":
        if (value === undefined || (operator === ":?" && value === "")) {
          throw new Error(`compose requires ${name}: ${argument}`);
        }
        return value;
      default:
        return value ?? "";
    }
  });
}

function interpolateAll<T>(value: T, vars: Env): T {
  if (typeof value === "string") return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, vars)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateAll(item, vars)]),
    ) as T;
  }
  return value;
}

/** Every variable the compose file interpolates (in values: comments are not interpolated). */
function composeVariables(value: unknown, names = new Set<string>()): string[] {
  if (typeof value === "string") {
    for (const match of value.matchAll(VARIABLE)) {
      if (match[0] !== "$$") names.add(match[1] ?? match[4]);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) composeVariables(item, names);
  } else if (value && typeof value === "object") {
    for (const item of Object.values(value)) composeVariables(item, names);
  }
  return [...names].sort();
}

async function loadCompose(vars: Env = {}): Promise<{ raw: ComposeFile; file: ComposeFile }> {
  const text = await read("docker-compose.yml");
  const raw = parse(text, { merge: true }) as ComposeFile;
  return { raw, file: interpolateAll(raw, vars) };
}

function environmentOf(service: Service): Env {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) {
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  }
  return Object.fromEntries(env.map((line) => {
    const index = line.indexOf("=");
    return index < 0 ? [line, ""] : [line.slice(0, index), line.slice(index + 1)];
  }));
}

function dependencies(
  service: Service,
): Record<string, { condition?: string; required?: boolean }> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, {}]));
  return deps;
}

/** Published host ports as {host, container}. */
function publishedPorts(service: Service): { host: number; container: number }[] {
  return (service.ports ?? []).flatMap((port) => {
    if (typeof port === "object") {
      return port.published === undefined
        ? []
        : [{ host: Number(port.published), container: port.target }];
    }
    const parts = String(port).split("/")[0].split(":");
    if (parts.length === 1) return []; // container port only: an ephemeral host port
    return [{ host: Number(parts.at(-2)), container: Number(parts.at(-1)) }];
  });
}

function healthText(service: Service): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(" ") : test ?? "";
}

/** `name:tag` with a real version (a digit in it), or a digest; never `latest`. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^:/]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== "latest" && /\d/.test(tag) && !/latest/.test(tag);
}

/** The service that publishes the API: depends on `app` and publishes container port 8080. */
function loadBalancerOf(file: ComposeFile): [string, Service] {
  const found = Object.entries(file.services).find(([name, service]) =>
    name !== "app" && "app" in dependencies(service) &&
    publishedPorts(service).some((port) => port.container === 8080)
  );
  assert.ok(found, "a load balancer service in front of app publishing port 8080");
  return found;
}

Deno.test("compose: the services, pinned images, health checks and start order", async () => {
  const { file } = await loadCompose();
  const services = file.services;
  for (const name of ["postgres", "redis", "app", "bot", "upstash"]) {
    assert.ok(services[name], `service ${name}`);
  }
  for (const [name, service] of Object.entries(services)) {
    if (service.build) {
      const build = typeof service.build === "string" ? { context: service.build } : service.build;
      assert.equal(build.context, ".", `${name} builds this repository`);
      assert.equal(build.dockerfile ?? "Dockerfile", "Dockerfile");
      continue;
    }
    assert.ok(service.image, `${name} has an image`);
    assert.ok(isPinned(service.image), `${name}: image ${service.image} is not pinned`);
  }
  assert.equal(services.app.image, services.bot.image, "app and bot run one image");

  assert.match(services.postgres.image!, /^postgres:1[56]\./);
  assert.match(services.redis.image!, /^redis:7\./);
  assert.match(healthText(services.postgres), /pg_isready/);
  assert.match(healthText(services.redis), /redis-cli\b.*\bping/);
  assert.match(healthText(services.app), /127\.0\.0\.1:8080\/healthz/);
  assert.match(healthText(services.bot), /127\.0\.0\.1:8081\/healthz/);

  // The database lives on a named volume.
  const pgVolume = (services.postgres.volumes ?? []).map(String).find((v) =>
    v.endsWith(":/var/lib/postgresql/data")
  );
  assert.ok(pgVolume, "postgres data on a volume");
  assert.ok(pgVolume.split(":")[0] in (file.volumes ?? {}), "a named volume");

  const appDeps = dependencies(services.app);
  assert.equal(appDeps.postgres?.condition, "service_healthy");
  assert.equal(appDeps.redis?.condition, "service_healthy");
  const [lbName, lb] = loadBalancerOf(file);
  assert.equal(dependencies(lb).app?.condition, "service_healthy");
  assert.ok(lb.healthcheck, "the load balancer has a health check");
  for (const [name, dep] of Object.entries(dependencies(services.bot))) {
    assert.equal(dep.condition, "service_healthy", `bot waits for ${name} to be healthy`);
    assert.ok([lbName, "app"].includes(name));
  }
  // An optional dependency may only point at a service in a profile.
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(dependencies(service))) {
      assert.ok(services[dep], `${name} depends on an undefined service ${dep}`);
      if (services[dep].profiles?.length) {
        assert.equal(spec.required, false, `${name} must not require ${dep} (profile-only)`);
      }
    }
  }
  assert.deepEqual(services.app.command, ["serve"]);
  assert.deepEqual(services.bot.command, ["bot"]);
});

Deno.test("compose: app publishes no host port (scale-out); the load balancer publishes 8080", async () => {
  const { file } = await loadCompose();
  assert.equal(file.services.app.ports, undefined, "app must not publish ports: --scale app=3");
  const [, lb] = loadBalancerOf(file);
  assert.ok(publishedPorts(lb).some((p) => p.host === 8080 && p.container === 8080));
  assert.ok(publishedPorts(file.services.bot).some((p) => p.host === 8081 && p.container === 8081));
  // No two services claim one host port.
  const hostPorts = Object.values(file.services).flatMap((s) =>
    publishedPorts(s).map((p) => p.host)
  );
  assert.equal(new Set(hostPorts).size, hostPorts.length, `host ports clash: ${hostPorts}`);
});

Deno.test("compose: the load balancer config balances every app replica via Docker DNS", async () => {
  const { file } = await loadCompose();
  const [, lb] = loadBalancerOf(file);
  const mount = (lb.volumes ?? []).map(String).find((v) => v.startsWith("./deploy/"));
  assert.ok(mount, "the load balancer config comes from deploy/");
  const [source, target] = mount.split(":");
  const config = await read(source.replace(/^\.\//, ""));
  assert.match(lb.image!, /^nginx:1\.(2[89]|[3-9]\d)\./, "nginx >= 1.28 (upstream `resolve`)");
  assert.equal(target, "/etc/nginx/nginx.conf");
  const text = config.replace(/#[^\n]*/g, "");
  assert.match(text, /\bresolver\s+127\.0\.0\.11\b/, "Docker's embedded DNS");
  assert.match(text, /upstream\s+(\w+)\s*\{[^}]*\bzone\b[^}]*\bserver\s+app:8080\s+resolve\b/);
  assert.match(text, /\blisten\s+8080;/);
  assert.match(text, /proxy_pass\s+http:\/\/app;/);
  assert.match(text, /proxy_next_upstream\s+[^;]*\berror\b/, "retries a replica that is gone");
  // Braces balance (a cheap syntax check; nginx -t is not available in the test).
  assert.equal((text.match(/\{/g) ?? []).length, (text.match(/\}/g) ?? []).length);
});

Deno.test("compose: the seed's environment, overridable, and valid for the app's own config", async () => {
  const { raw, file } = await loadCompose();
  const rawApp = environmentOf(raw.services.app);
  for (const name of ["API_KEY", "DATA_SOURCE", "ENABLED_SOURCES"]) {
    assert.ok(name in rawApp, `app sets ${name}`);
    assert.match(rawApp[name], new RegExp(`^\\$\\{${name}[:-]`), `${name} is overridable`);
  }
  const app = environmentOf(file.services.app);
  assert.equal(new URL(app.DATABASE_URL).hostname, "postgres");
  assert.equal(new URL(app.REDIS_URL).hostname, "redis");
  assert.equal(app.PORT ?? "8080", "8080");
  assert.ok(app.API_KEY, "replicas must share a key: API_KEY is never empty by default");
  // The defaults form a configuration the app accepts.
  loadAppConfig(app);
  loadIngestConfig(app);
  cacheSettingsFromEnv(app);

  // The bot calls the API on port 8080 of app or of the load balancer.
  const bot = environmentOf(file.services.bot);
  const [lbName] = loadBalancerOf(file);
  const api = new URL(bot.ANALYTICS_API_URL);
  assert.ok([lbName, "app"].includes(api.hostname), `ANALYTICS_API_URL ${api}`);
  assert.equal(api.port, "8080");
  assert.equal(bot.BOT_PORT ?? "8081", "8081");
});

Deno.test("compose: the upstash profile is an Upstash REST proxy the app can be pointed at", async () => {
  const token = "a-token-for-the-test";
  const { file } = await loadCompose({
    REDIS_URL: "",
    UPSTASH_REDIS_REST_URL: "http://upstash:80",
    UPSTASH_REDIS_REST_TOKEN: token,
  });
  const upstash = file.services.upstash;
  assert.deepEqual(upstash.profiles, ["upstash"]);
  const srh = environmentOf(upstash);
  assert.equal(srh.SRH_MODE, "env");
  assert.equal(srh.SRH_TOKEN, token, "proxy and app share UPSTASH_REDIS_REST_TOKEN");
  assert.equal(new URL(srh.SRH_CONNECTION_STRING).hostname, "redis");
  assert.equal(dependencies(upstash).redis?.condition, "service_healthy");
  const app = environmentOf(file.services.app);
  const cache = cacheSettingsFromEnv(app);
  assert.equal(cache.REDIS_URL, undefined);
  assert.equal(new URL(cache.UPSTASH_REDIS_REST_URL!).hostname, "upstash");
  assert.equal(cache.UPSTASH_REDIS_REST_TOKEN, token);
});

// ---------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function dockerInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    if (line.trimEnd().endsWith("\\")) {
      current += line.trimEnd().slice(0, -1) + " ";
      continue;
    }
    current += line;
    if (current.trim()) {
      const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(current.trim());
      assert.ok(match, `unparsable Dockerfile line: ${current}`);
      instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim() });
    }
    current = "";
  }
  return instructions;
}

function execForm(args: string): string[] {
  const parsed = JSON.parse(args);
  assert.ok(Array.isArray(parsed), `exec form expected: ${args}`);
  return parsed;
}

Deno.test("Dockerfile: pinned Deno, cached deps, non-root, health check, subcommands", async () => {
  const steps = dockerInstructions(await read("Dockerfile"));
  const index = (keyword: string, pattern: RegExp) =>
    steps.findIndex((s) => s.keyword === keyword && pattern.test(s.args));

  const from = steps.filter((s) => s.keyword === "FROM");
  assert.equal(from.length, 1);
  const version = /^denoland\/deno:(?:[a-z]+-)?(\d+)\.(\d+)\.(\d+)$/.exec(from[0].args);
  assert.ok(version, `FROM ${from[0].args}: the official image, an exact version`);
  const [major, minor] = Deno.version.deno.split(".");
  assert.equal(`${version[1]}.${version[2]}`, `${major}.${minor}`, "the Deno we develop with");

  // Dependencies first (their own layer), the sources after.
  const copyManifests = index("COPY", /^deno\.json deno\.lock \.\/?$/);
  const install = index("RUN", /deno install --frozen/);
  const copyAll = index("COPY", /^(--chown=\S+ )?\. \.\/?$/);
  const cache = index("RUN", /deno cache\b.*\bmain\.ts/);
  assert.ok(copyManifests >= 0 && install > copyManifests, "deno.json + deno.lock, then install");
  assert.ok(copyAll > install, "the sources are copied after the dependency layer");
  assert.ok(cache > copyAll, "then main.ts's graph is cached");

  const users = steps.filter((s) => s.keyword === "USER");
  assert.ok(users.length > 0, "a USER");
  assert.ok(!["root", "0", "0:0"].includes(users.at(-1)!.args), "runs as non-root");
  assert.ok(index("HEALTHCHECK", /\/healthz/) >= 0, "HEALTHCHECK on /healthz");
  const exposed = steps.filter((s) => s.keyword === "EXPOSE").flatMap((s) => s.args.split(/\s+/));
  assert.ok(exposed.includes("8080") && exposed.includes("8081"));

  const entrypoint = execForm(steps.findLast((s) => s.keyword === "ENTRYPOINT")!.args);
  const cmd = execForm(steps.findLast((s) => s.keyword === "CMD")!.args);
  const deno = entrypoint.indexOf("deno");
  assert.ok(deno >= 0 && entrypoint[deno + 1] === "run", "ENTRYPOINT runs deno");
  assert.equal(entrypoint.at(-1), "main.ts", "the command (CMD) picks the subcommand");
  assert.ok(entrypoint.includes("--cached-only"), "never downloads at run time");
  assert.ok(!entrypoint.some((flag) => ["-A", "--allow-all"].includes(flag)), "no -A");
  assert.deepEqual(cmd, ["serve"]);

  // Every role the image is run with is a subcommand of main.ts.
  const main = await read("main.ts");
  const { file } = await loadCompose();
  const roles = new Set([
    "serve",
    "ingest",
    "migrate",
    ...Object.values(file.services)
      .filter((s) => s.build).map((s) => [s.command ?? []].flat()[0]).filter(Boolean),
  ]);
  for (const role of roles) {
    assert.match(main, new RegExp(`case\\s+"${role}"`), `main.ts has no "${role}" subcommand`);
  }
});

/** Runs `deno eval --no-config <code>` as a health check would; its exit code. */
async function runHealthScript(code: string, env: Env): Promise<number> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  });
  return (await command.output()).code;
}

Deno.test("the health check commands work: 0 while /healthz answers 200, 1 when not", async () => {
  const steps = dockerInstructions(await read("Dockerfile"));
  const healthcheck = steps.find((s) => s.keyword === "HEALTHCHECK")!.args;
  const form = execForm(healthcheck.slice(healthcheck.indexOf("CMD") + 3).trim());
  assert.deepEqual(form.slice(0, 3), ["deno", "eval", "--no-config"]);
  const { file } = await loadCompose();
  const composed = (name: string) => {
    const test = file.services[name].healthcheck!.test as string[];
    assert.deepEqual(test.slice(0, 4), ["CMD", "deno", "eval", "--no-config"]);
    return test[4];
  };

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request) =>
      new URL(request.url).pathname === "/healthz"
        ? Response.json({ status: "ok" })
        : new Response("no", { status: 404 }),
  );
  const port = String(server.addr.port);
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const closedPort = String((closed.addr as Deno.NetAddr).port);
  closed.close();
  try {
    // The image's: PORT, or HEALTHCHECK_URL (the bot's).
    assert.equal(await runHealthScript(form[3], { PORT: port }), 0);
    assert.equal(await runHealthScript(form[3], { PORT: closedPort }), 1);
    const url = `http://127.0.0.1:${port}/healthz`;
    assert.equal(await runHealthScript(form[3], { PORT: closedPort, HEALTHCHECK_URL: url }), 0);
    assert.equal(await runHealthScript(form[3], { HEALTHCHECK_URL: url + "/nope" }), 1);
    // The compose file's, on the ports they name, moved to the test's ports.
    for (const [name, fixed] of [["app", "8080"], ["bot", "8081"]]) {
      const code = composed(name);
      assert.ok(code.includes(`127.0.0.1:${fixed}/healthz`), `${name} checks its own port`);
      assert.equal(await runHealthScript(code.replace(fixed, port), {}), 0, name);
      assert.equal(await runHealthScript(code.replace(fixed, closedPort), {}), 1, name);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test(".dockerignore keeps host dependencies, data and secrets out of the image", async () => {
  const patterns = (await read(".dockerignore")).split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const needed of ["node_modules", "data", ".env", ".git"]) {
    assert.ok(patterns.includes(needed), `.dockerignore lists ${needed}`);
  }
  for (const kept of ["deno.json", "deno.lock", "main.ts", "lib", "sql", "runtime"]) {
    assert.ok(!patterns.includes(kept), `.dockerignore must not drop ${kept}`);
  }
});

// ---------------------------------------------------------------------------------------
// README.md and docs/: every variable documented, every task real
// ---------------------------------------------------------------------------------------

const ENV_NAME = /^[A-Z][A-Z0-9_]{2,}$/;
const SOURCE_DIRS = ["lib", "handlers", "ingest", "runtime"];

async function sourceFiles(): Promise<string[]> {
  const files = ["main.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) await walk(dir);
  return files.sort();
}

/** Top-level keys of `z.object({...})` literals whose keys look like variable names. */
function envSchemaKeys(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/z\s*\.\s*object\s*\(\s*\{/g)) {
    // Walk the object literal, skipping strings; a key counts when its line starts at the
    // object's own level (not inside a nested call or object).
    let depth = 0;
    let lineStartDepth = 0;
    let line = "";
    let quote = "";
    for (let index = match.index! + match[0].length; index < source.length; index++) {
      const char = source[index];
      if (quote) {
        if (char === "\\") index++;
        else if (char === quote) quote = "";
        continue;
      }
      if (char === "\n") {
        const key = /^\s*([A-Z][A-Z0-9_]{2,})\s*:/.exec(line);
        if (key && lineStartDepth === 0) names.push(key[1]);
        line = "";
        lineStartDepth = depth;
        continue;
      }
      line += char;
      if (char === '"' || char === "'" || char === "`") quote = char;
      else if ("{([".includes(char)) depth++;
      else if ("})]".includes(char) && --depth < 0) break;
    }
    const last = /^\s*([A-Z][A-Z0-9_]{2,})\s*:/.exec(line);
    if (last && lineStartDepth === 0) names.push(last[1]);
  }
  return names;
}

/** Names read as `env.NAME`, `env["NAME"]`, `env.get("NAME")`, or listed in `*ENV*` maps. */
function envReads(source: string): string[] {
  const names: string[] = [];
  const patterns = [
    /\b\w*[eE]nv\??\.([A-Z][A-Z0-9_]{2,})\b/g,
    /\b\w*[eE]nv\??\.?\[\s*["'`]([A-Z][A-Z0-9_]{2,})["'`]\s*\]/g,
    /\b\w*[eE]nv\??\.get\(\s*["'`]([A-Z][A-Z0-9_]{2,})["'`]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) names.push(match[1]);
  }
  for (const block of source.matchAll(/const\s+\w*ENV\w*[^=]*=\s*\{([^}]*)\}/g)) {
    for (const literal of block[1].matchAll(/["'`]([A-Z][A-Z0-9_]{2,})["'`]/g)) {
      names.push(literal[1]);
    }
  }
  return names;
}

/** Every environment variable the app reads, with where it was found. */
async function variablesTheAppReads(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const add = (name: string, where: string) => {
    if (ENV_NAME.test(name) && !found.has(name)) found.set(name, where);
  };
  for (
    const [where, schema] of [
      ["lib/config.ts AppConfigSchema", AppConfigSchema],
      ["ingest/ingest_settings.ts IngestConfigSchema", IngestConfigSchema],
      ["lib/cache/settings.ts CacheEnvSchema", CacheEnvSchema],
    ] as const
  ) {
    for (const name of Object.keys(schema.shape)) add(name, where);
  }
  for (const path of await sourceFiles()) {
    const source = await read(path);
    for (const name of [...envSchemaKeys(source), ...envReads(source)]) add(name, path);
  }
  // The image's health check reads its own variables.
  for (const name of envReads(await read("Dockerfile"))) add(name, "Dockerfile");
  return found;
}

/** README.md and every docs/*.md, one text: where the variables and tasks are documented. */
async function readDocs(): Promise<string> {
  const texts = [await read("README.md")];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) texts.push(await read(`docs/${entry.name}`));
  }
  return texts.join("\n");
}

function documented(readme: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(readme);
}

Deno.test("the docs document every environment variable the app reads", async () => {
  const readme = await readDocs();
  const variables = await variablesTheAppReads();
  // The scan must find what we know is there, or it has gone blind.
  for (
    const known of ["PORT", "DATABASE_URL", "REDIS_URL", "API_KEY", "DATA_SOURCE", "FAKE_SEED"]
  ) {
    assert.ok(variables.has(known), `the scan misses ${known}`);
  }
  const missing = [...variables].filter(([name]) => !documented(readme, name))
    .map(([name, where]) => `${name} (${where})`);
  assert.deepEqual(missing, [], `README.md and docs/ do not document: ${missing.join(", ")}`);
});

Deno.test("the docs document every variable docker-compose.yml offers", async () => {
  const readme = await readDocs();
  const { raw } = await loadCompose();
  const variables = composeVariables(raw);
  assert.ok(variables.includes("API_KEY"));
  const missing = variables.filter((name) => !documented(readme, name));
  assert.deepEqual(missing, [], `README.md and docs/ do not document: ${missing.join(", ")}`);
});

Deno.test("every `deno task` the docs mention exists in deno.json", async () => {
  const readme = await readDocs();
  const tasks = Object.keys(JSON.parse(await read("deno.json")).tasks ?? {});
  const mentioned = [
    ...new Set([...readme.matchAll(/deno task ([A-Za-z0-9:_-]+)/g)].map((m) => m[1])),
  ];
  assert.ok(mentioned.length > 0, "the docs mention deno tasks");
  const unknown = mentioned.filter((name) => !tasks.includes(name));
  assert.deepEqual(unknown, [], `the docs mention tasks deno.json lacks: ${unknown.join(", ")}`);
});
