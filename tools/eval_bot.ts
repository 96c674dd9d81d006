/**
 * Scores the bot's parser on an evaluation file (JSON Lines; the format is in docs/bot.md).
 *
 *   deno run -A tools/eval_bot.ts FILE
 *
 * Prints every failing case (id, prompt, expected, got) and ends with `exact: K/N`.
 * The exit code is 0 whatever the score: this is a measurement, not a gate.
 */
import { type CaseResult, evaluateCases } from "../lib/bot/evaluate.ts";

function describeFailure(result: CaseResult): string {
  const lines = [`✗ ${result.id}: ${result.prompt}`];
  if (result.error) lines.push(`  error:    ${result.error}`);
  lines.push(`  expected: ${JSON.stringify(result.expected)}`);
  if (result.got) {
    const got = Object.fromEntries(
      Object.keys(result.expected).map((
        key,
      ) => [key, (result.got as Record<string, unknown>)[key]]),
    );
    lines.push(`  got:      ${JSON.stringify(got)}`);
    lines.push(`  differs:  ${result.mismatches.join(", ")}`);
  }
  return lines.join("\n");
}

async function main(args: string[]): Promise<void> {
  const [file] = args;
  if (!file) {
    console.error("usage: deno run -A tools/eval_bot.ts FILE");
    Deno.exit(2);
  }
  const report = evaluateCases(await Deno.readTextFile(file));
  for (const result of report.results) {
    if (!result.passed) console.log(describeFailure(result));
  }
  console.log(`exact: ${report.passed}/${report.total}`);
}

if (import.meta.main) await main(Deno.args);
