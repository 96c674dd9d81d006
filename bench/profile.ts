/**
 * A CPU profile of a bench server under load, through the V8 inspector: the server is
 * started with --inspect, this process connects to its DevTools socket and records a
 * sampling profile while the load generator runs. The result is summarized as the
 * functions with the most self time and the share of time per source (our files,
 * each npm package, Deno's runtime, idle, GC), which is the evidence for "what limits
 * the cached path".
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  sampled_ms: number;
  /** Share of samples not idle (the server's event loop was doing something). */
  busy_share: number;
  top_self: { function: string; where: string; self_share: number }[];
  by_source: { source: string; self_share: number }[];
}

/** Connects to a DevTools websocket and runs `during` between Profiler.start and stop. */
export async function captureProfile(
  wsUrl: string,
  during: () => Promise<unknown>,
): Promise<CpuProfile> {
  const socket = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to ${wsUrl}`));
  });
  let nextId = 1;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)!(message.result ?? {});
      pending.delete(message.id);
    }
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 200 });
    await send("Profiler.start");
    await during();
    const { profile } = await send("Profiler.stop") as { profile: CpuProfile };
    return profile;
  } finally {
    socket.close();
  }
}

function sourceOf(url: string, functionName: string): string {
  if (functionName === "(idle)") return "(idle)";
  if (functionName === "(garbage collector)") return "(garbage collector)";
  if (functionName === "(program)") return "(program: V8/Deno native)";
  if (!url) return "(native/builtin)";
  const npm = /node_modules\/\.deno\/([^/]+?)@[^/]+\/|node_modules\/(@[^/]+\/[^/]+|[^/@.][^/]*)\//
    .exec(url);
  if (npm) return `npm:${(npm[1] ?? npm[2]).replace(/\+/g, "/")}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) {
    return `deno runtime (${url.split("/")[0].replace(/:$/, "")}:${url.split("/")[2] ?? ""})`;
  }
  const ours = /\/(lib|handlers|runtime|ingest|bench|sql)\/[^/]+$/.exec(url);
  if (ours) return `ours: ${ours[0].slice(1)}`;
  return url.replace(/^.*\//, "");
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
    total += delta;
  }
  const functions = new Map<string, { function: string; where: string; us: number }>();
  const sources = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (name === "(idle)") idle += us;
    const where = url
      ? `${url.replace(/^.*\/(node_modules\/\.deno\/)?/, "")}:${lineNumber + 1}`
      : "";
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { function: name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const source = sourceOf(url, name);
    sources.set(source, (sources.get(source) ?? 0) + us);
  }
  const share = (us: number) => Math.round((us / Math.max(total, 1)) * 1000) / 1000;
  return {
    sampled_ms: Math.round(total / 1000),
    busy_share: share(total - idle),
    top_self: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top)
      .map((f) => ({ function: f.function, where: f.where, self_share: share(f.us) })),
    by_source: [...sources.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([source, us]) => ({ source, self_share: share(us) })),
  };
}
