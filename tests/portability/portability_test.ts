/**
 * The library is portable: check.ts (the pure parts, the PGlite store opened with the
 * documented set-up call, the memory cache) prints the same numbers under Deno and
 * under Node 20, and both match expected.json. Node runs the TypeScript through tsx
 * (tests/portability/package.json); the library's own npm dependencies come from the
 * repository's node_modules, which `deno install` fills from deno.lock.
 */
import assert from "node:assert/strict";
import { IN_CI } from "../support/databases.ts";

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);
const CHECK = new URL("check.ts", HERE).pathname;
const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", HERE)));

async function run(command: string, args: string[], cwd: URL): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `${command} ${args.join(" ")} failed:\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

async function nodeAvailable(): Promise<boolean> {
  try {
    const version = await run("node", ["--version"], ROOT);
    return Number(/^v(\d+)/.exec(version)?.[1]) >= 20;
  } catch {
    return false;
  }
}

const hasNode = await nodeAvailable();
if (IN_CI && !hasNode) {
  throw new Error("CI=true but Node 20+ is missing: the portability test must run");
}

Deno.test("portability check: Deno computes the expected numbers", async () => {
  const stdout = await run(Deno.execPath(), ["run", "-A", CHECK], ROOT);
  assert.deepEqual(lastJsonLine(stdout), expected);
});

Deno.test({
  name: "portability check: Node 20 (tsx) computes the same numbers",
  ignore: !hasNode && !IN_CI, // in CI a missing Node already failed above
  sanitizeResources: false,
  async fn() {
    const tsx = new URL("node_modules/tsx/dist/cli.mjs", HERE);
    const installed = await Deno.stat(tsx).then(() => true, () => false);
    if (!installed) await run("npm", ["ci", "--no-audit", "--no-fund", "--silent"], HERE);
    const stdout = await run("node", [tsx.pathname, CHECK], ROOT);
    assert.deepEqual(lastJsonLine(stdout), expected);
  },
});
