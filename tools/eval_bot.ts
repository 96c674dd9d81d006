/**
 * Scores the bot's parser on an evaluation file (JSON Lines; the format is in docs/bot.md).
 *
 *   deno run -A tools/eval_bot.ts FILE [--by-kind]
 *
 * Prints every failing case (id, prompt, expected, got) and ends with `exact: K/N`.
 * `--by-kind` adds, before that line, the misses grouped by what they got wrong
 * (intent, dates, platforms, campaign, metrics, currency, group_by, ranking).
 * The exit code is 0 whatever the score: this is a measurement, not a gate.
 */
import { type CaseResult, evaluateCases, tallyByKind } from "../lib/bot/evaluate.ts";

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
  const byKind = args.includes("--by-kind");
  const [file] = args.filter((arg) => arg !== "--by-kind");
  if (!file) {
    console.error("usage: deno run -A tools/eval_bot.ts FILE [--by-kind]");
    Deno.exit(2);
  }
  const report = evaluateCases(await Deno.readTextFile(file));
  for (const result of report.results) {
    if (!result.passed) console.log(describeFailure(result));
  }
  if (byKind) {
    console.log("by kind (cases scored on it, misses):");
    for (const { kind, scored, missed } of tallyByKind(report)) {
      const ids = missed.length > 0 ? `  ${missed.join(" ")}` : "";
      console.log(`  ${kind.padEnd(10)} ${scored - missed.length}/${scored}${ids}`);
    }
  }
  console.log(`exact: ${report.passed}/${report.total}`);
}

if (import.meta.main) await main(Deno.args);
