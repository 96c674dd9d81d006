/**
 * The app as `serve` composes it (runtime/compose_app.ts: sessions, dashboard, live updates,
 * push, /prompt), over a migrated PGlite and a memory cache, on a real socket, seeded
 * with two weeks of the fake source's deterministic rows up to now.
 */
import { CachedReader } from "../../lib/cache/cache.ts";
import { MemoryCache } from "../../lib/cache/memory.ts";
import { loadAppConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { IngestJournal } from "../../lib/store/ingest_journal.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import { Registry } from "../../lib/telemetry.ts";
import { promptExtension } from "../../handlers/prompt.ts";
import { composeApp } from "../../runtime/compose_app.ts";
import { campaignMetadata } from "../../ingest/fake.ts";
import { createFakeCatalog } from "../../ingest/fake_catalog.ts";
import { fakeRows } from "../../ingest/fake_rows.ts";
import { pgliteDatabase } from "../support/databases.ts";

export const KEY_A = "dash-key-tenant-a-0001";
export const KEY_B = "dash-key-tenant-b-0002";
export const TENANT_A = "tenant-a";
export const JWT_SECRET = "a-dashboard-test-secret-long-enough-0123456789";

/**
 * The push route. It is one constant so that a rename of the route (POST /ingest/rows)
 * is one edit here.
 */
export const PUSH_PATH = "/ingest/rows";

export interface SeenRequest {
  method: string;
  path: string;
  origin: string | null;
  sessionCookie: boolean;
  status: number;
}

export interface DashboardServer {
  base: string;
  /** Every request the server answered, in order (what the browser really sent). */
  seen: SeenRequest[];
  store: SqlMetricsStore;
  /**
   * Replaces the tenant's data version in the shared cache without telling this process,
   * as a write committed by another replica (or the ingestion streamer) does.
   */
  bumpElsewhere(tenant: string): Promise<string>;
  /** GET with a bearer key: what any API client would see. */
  apiJson(path: string, key?: string): Promise<unknown>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

export async function startDashboardServer(
  options: { days?: number; campaigns?: number } = {},
): Promise<DashboardServer> {
  const db = await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  const journal = new IngestJournal(db.driver);
  const now = new Date();
  const catalog = createFakeCatalog({
    now,
    campaigns: options.campaigns ?? 12,
    tenantId: TENANT_A,
    seed: 7,
  });
  const rows = fakeRows(catalog, {
    from: new Date(now.getTime() - (options.days ?? 14) * DAY_MS),
    to: now,
  });
  for (let i = 0; i < rows.length; i += 2000) await store.upsert(rows.slice(i, i + 2000));
  await store.upsertCampaigns(campaignMetadata(catalog));

  const reader = new CachedReader({ cache: new MemoryCache(), logger: silentLogger });
  const config = loadAppConfig({
    API_KEY: `${TENANT_A}:${KEY_A},tenant-b:${KEY_B}`,
    JWT_SECRET,
    LOG_LEVEL: "error",
  });
  const { app } = composeApp({
    config,
    store,
    journal,
    reader,
    logger: silentLogger,
    telemetry: new Registry(),
    clock: () => new Date(),
    extensions: () => [promptExtension()],
  });
  const seen: SeenRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const response = await app.fetch(request);
      seen.push({
        method: request.method,
        path: new URL(request.url).pathname,
        origin: request.headers.get("Origin"),
        sessionCookie: (request.headers.get("Cookie") ?? "").includes("ca_session="),
        status: response.status,
      });
      return response;
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    seen,
    store,
    bumpElsewhere: (tenant) => reader.cache.bumpDataVersion(tenant),
    async apiJson(path, key = KEY_A) {
      const response = await fetch(base + path, { headers: { Authorization: `Bearer ${key}` } });
      if (!response.ok) {
        throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
      }
      return await response.json();
    },
    async close() {
      await server.shutdown();
      await reader.close();
      await db.dispose();
    },
  };
}

/** Today in UTC (the browser tests run the page in UTC). */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
