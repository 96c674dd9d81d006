/**
 * The library's surface stays documented: `deno doc --lint` passes on every entry
 * point (JSDoc on every export, explicit types, no signature naming an unexported or
 * third-party type), and every exported function, class and constant carries an
 * `@example` (the examples themselves run through `deno test --doc`).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const ENTRIES: string[] = Object.values(config.exports as Record<string, string>);

async function deno(args: string[]): Promise<{ success: boolean; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    success: output.success,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("the package's entry points are mod.ts, store.ts and cache.ts", () => {
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./store": "./store.ts",
    "./cache": "./cache.ts",
  });
});

Deno.test("deno doc --lint passes on every entry point", async () => {
  const result = await deno(["doc", "--lint", ...ENTRIES]);
  assert.ok(result.success, result.stdout + result.stderr);
});

interface DocSymbol {
  name: string;
  declarations: { kind: string; jsDoc?: { tags?: { kind: string }[] } }[];
}

Deno.test("every exported function, class and constant has an @example", async () => {
  const result = await deno(["doc", "--json", ...ENTRIES]);
  assert.ok(result.success, result.stderr);
  const nodes = JSON.parse(result.stdout).nodes as Record<string, { symbols: DocSymbol[] }>;
  const missing: string[] = [];
  let values = 0;
  for (const [entry, { symbols }] of Object.entries(nodes)) {
    for (const symbol of symbols) {
      const isValue = symbol.declarations.some((declaration) =>
        ["function", "class", "variable"].includes(declaration.kind)
      );
      if (!isValue) continue;
      values += 1;
      const hasExample = symbol.declarations.some((declaration) =>
        declaration.jsDoc?.tags?.some((tag) => tag.kind === "example")
      );
      if (!hasExample) missing.push(`${entry.split("/").pop()}: ${symbol.name}`);
    }
  }
  assert.ok(values >= 40, `expected the library's functions and classes, saw ${values}`);
  assert.deepEqual(missing, []);
});
