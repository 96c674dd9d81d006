/** Operations endpoints: liveness, readiness, Prometheus metrics, OpenAPI and docs. */
import type { Hono } from "hono";
import type { AppDeps, AppEnv } from "./context.ts";
import { buildOpenApi, docsPage, type Operation } from "./openapi.ts";

/** How long /readyz waits for one dependency before calling it down. */
const READINESS_TIMEOUT_MS = 1000;
/** How long a probe's result is reused: a tight polling loop costs one check per period. */
const READINESS_FRESH_MS = 500;

/**
 * One dependency's readiness, checked by at most one probe at a time: concurrent and
 * rapid /readyz calls share the running check (or its recent result) instead of each
 * taking a database connection. A check that outlives its timeout is reported down and
 * still counts as in flight until it settles, so probes never pile up during an outage
 * and never hold connections that requests are waiting for.
 */
export function singleFlightProbe(
  check: () => Promise<void>,
  options: { timeoutMs?: number; freshMs?: number; now?: () => number } = {},
): () => Promise<string | null> {
  const timeoutMs = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  const freshMs = options.freshMs ?? READINESS_FRESH_MS;
  const now = options.now ?? (() => performance.now());
  let inFlight: Promise<string | null> | undefined;
  let last: { at: number; error: string | null } | undefined;
  return async () => {
    if (last && now() - last.at < freshMs) return last.error;
    inFlight ??= check().then(
      () => null,
      (error) => (error instanceof Error ? error.message : String(error)),
    ).then((error) => {
      last = { at: now(), error };
      inFlight = undefined;
      return error;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        inFlight,
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("timed out"), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export function registerOpsRoutes(
  app: Hono<AppEnv>,
  deps: AppDeps,
  operations: () => readonly Operation[],
  version: string,
): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  const probes = deps.readiness.map(({ name, check, optional }) => ({
    name,
    optional: optional ?? false,
    probe: singleFlightProbe(check),
  }));
  app.get("/readyz", async (c) => {
    const results = await Promise.all(
      probes.map(async ({ name, optional, probe }) => ({ name, optional, error: await probe() })),
    );
    const down = results.filter((result) => result.error !== null);
    const checks = Object.fromEntries(
      results.map(({ name, error }) => [name, error === null ? "ok" : "unavailable"]),
    );
    if (down.length === 0) return c.json({ status: "ready", checks });
    deps.logger.warn("not ready", {
      down: Object.fromEntries(down.map(({ name, error }) => [name, error])),
    });
    // Only what requests cannot do without takes the instance out of rotation: with the
    // cache down every read still answers from the database, just slower.
    if (down.every((result) => result.optional)) {
      return c.json({
        status: "degraded",
        error: `degraded: ${down.map((d) => d.name).join(", ")} unavailable`,
        checks,
      });
    }
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
