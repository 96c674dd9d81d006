/** Operations endpoints: liveness, readiness, Prometheus metrics, OpenAPI and docs. */
import type { Hono } from "hono";
import type { AppDeps, AppEnv } from "./context.ts";
import { buildOpenApi, docsPage, type Operation } from "./openapi.ts";

/** How long a readiness probe waits for one dependency before calling it down. */
const READINESS_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<void>): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), READINESS_TIMEOUT_MS);
      }),
    ]);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function registerOpsRoutes(
  app: Hono<AppEnv>,
  deps: AppDeps,
  operations: () => readonly Operation[],
  version: string,
): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
    const results = await Promise.all(
      deps.readiness.map(async ({ name, check }) => ({ name, error: await probe(check) })),
    );
    const down = results.filter((result) => result.error !== null);
    const checks = Object.fromEntries(
      results.map(({ name, error }) => [name, error === null ? "ok" : "unavailable"]),
    );
    if (down.length === 0) return c.json({ status: "ready", checks });
    deps.logger.warn("not ready", {
      down: Object.fromEntries(down.map(({ name, error }) => [name, error])),
    });
    return c.json({
      status: "unavailable",
      error: `not ready: ${down.map((d) => d.name).join(", ")} unavailable`,
      checks,
    }, 503);
  });

  app.get("/metrics", (c) =>
    c.body(deps.telemetry.render(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    }));

  let spec: string | undefined;
  app.get("/openapi.json", (c) => {
    spec ??= JSON.stringify(buildOpenApi(operations(), version));
    return c.body(spec, 200, { "Content-Type": "application/json" });
  });

  app.get("/docs", (c) => c.html(docsPage("/openapi.json")));
}
