// Ad-hoc: EXPLAIN ANALYZE of the ranking statements the store sends (not committed).
import { openPostgresSchema } from "../bench/db.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
const [schema, from, to] = Deno.args;
const db = await openPostgresSchema("postgres://postgres@127.0.0.1:5432/test", schema, { max: 2 });
const seen: { sql: string; params: unknown[] }[] = [];
const driver = db.driver;
const spy = Object.create(driver);
spy.query = (sql: string, params?: unknown[]) => {
  seen.push({ sql, params: params ?? [] });
  return driver.query(sql, params);
};
const store = new SqlMetricsStore(spy);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await store.rank({ tenantId: "bench", from: new Date(from), to: new Date(to) }, { groupBy: "campaign", metric: "roas", order: "desc", limit: 10 });
  console.log("rank ms", (performance.now() - t0).toFixed(1));
}
const order = seen.find((s) => s.sql.includes("AS score") && s.sql.includes("LIMIT"))!;
const plan = await driver.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${order.sql}`, order.params as string[]);
console.log(plan.map((r) => r["QUERY PLAN"]).join("\n"));
await db.close();
let text = order.sql;
(order.params as unknown[]).forEach((p, i) => {
  const v = Array.isArray(p) ? `'{${p.join(",")}}'` : typeof p === "number" ? String(p) : `'${p}'`;
  text = text.replaceAll(new RegExp(`\\$${i + 1}(?![0-9])`, "g"), v);
});
await Deno.writeTextFile("tmp/order.sql", text);
