/**
 * The ordered list of migrations. The scripts are embedded as string constants
 * generated from sql/*.sql (`deno task gen:migrations`), so every runtime can load
 * them without file access.
 */
export { MIGRATIONS } from "./migrations.generated.ts";
