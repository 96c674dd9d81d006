/**
 * The ordered list of migrations, with each script embedded at build time (text
 * imports), so entry points can migrate without reading files at run time.
 */
import type { Migration } from "../lib/store/migrate.ts";
import init from "./001_init.sql" with { type: "text" };
import ingest from "./002_ingest.sql" with { type: "text" };
import hourlyRollup from "./003_hourly_rollup.sql" with { type: "text" };
import fxRates from "./004_fx_rates.sql" with { type: "text" };
import rankingIndex from "./006_ranking_index.sql" with { type: "text" };

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "init", sql: init },
  { version: 2, name: "ingest", sql: ingest },
  { version: 3, name: "hourly rollup", sql: hourlyRollup },
  { version: 4, name: "fx rates", sql: fxRates },
  // 5 is the daily campaign rollup (merged separately).
  { version: 6, name: "ranking index", sql: rankingIndex },
];
