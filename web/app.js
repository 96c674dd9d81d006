// The Campaign Analytics dashboard: plain browser JavaScript, no build step. It reads
// the same API as every other client, signed in with a session cookie (HttpOnly: this
// script never sees a token), and redraws when the tenant's data version changes.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  /** Builds an element; children are nodes or text (never parsed as HTML). */
  function h(tag, attrs = {}, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") element.className = value;
      else if (key === "dataset") Object.assign(element.dataset, value);
      else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
      else element.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }

  async function api(path, init = {}) {
    let response;
    try {
      response = await fetch(path, {
        credentials: "same-origin",
        ...init,
        headers: { Accept: "application/json", ...(init.headers ?? {}) },
      });
    } catch {
      throw new ApiError(0, "the server cannot be reached");
    }
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`, body.field);
    }
    return body;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  // ---------------------------------------------------------------------------
  // Dates (calendar days in the display time zone)
  // ---------------------------------------------------------------------------

  const DAY_MS = 86_400_000;

  function todayIn(zone) {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(new Date());
  }

  const toUtc = (day) => Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10));
  const fromUtc = (ms) => new Date(ms).toISOString().slice(0, 10);
  const shiftDay = (day, days) => fromUtc(toUtc(day) + days * DAY_MS);
  const daysBetween = (from, to) => Math.round((toUtc(to) - toUtc(from)) / DAY_MS);
  const isDay = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text ?? "") && !Number.isNaN(toUtc(text));

  function presetRange(preset, zone) {
    const today = todayIn(zone);
    const [year, month] = [+today.slice(0, 4), +today.slice(5, 7)];
    const monthStart = (y, m) => fromUtc(Date.UTC(y, m - 1, 1));
    switch (preset) {
      case "today":
        return { from: today, to: today };
      case "yesterday":
        return { from: shiftDay(today, -1), to: shiftDay(today, -1) };
      case "last30":
        return { from: shiftDay(today, -29), to: today };
      case "this_month":
        return { from: monthStart(year, month), to: today };
      case "last_month": {
        const first = monthStart(year, month - 1);
        return { from: first, to: shiftDay(monthStart(year, month), -1) };
      }
      case "this_quarter":
        return { from: monthStart(year, Math.floor((month - 1) / 3) * 3 + 1), to: today };
      default:
        return { from: shiftDay(today, -6), to: today };
    }
  }

  /** The period of equal length just before [from, to]. */
  function previousRange(from, to) {
    const length = daysBetween(from, to) + 1;
    return { from: shiftDay(from, -length), to: shiftDay(from, -1) };
  }

  /** Hourly buckets for up to three days, daily beyond. */
  const granularityFor = (from, to) => (daysBetween(from, to) + 1 <= 3 ? "hour" : "day");

  /** Every bucket of the range, so hours or days without rows are drawn as zero. */
  function bucketsOf(from, to, granularity) {
    const buckets = [];
    for (let day = from; day <= to; day = shiftDay(day, 1)) {
      if (granularity === "day") buckets.push(day);
      else {for (let hour = 0; hour < 24; hour++) {
          buckets.push(`${day}T${String(hour).padStart(2, "0")}:00`);
        }}
    }
    return buckets;
  }

  /** Buckets are wall-clock times of the display zone; the chart draws them as UTC. */
  const bucketSeconds = (bucket) =>
    (toUtc(bucket.slice(0, 10)) + (bucket.length > 10 ? +bucket.slice(11, 13) * 3_600_000 : 0)) /
    1000;

  // ---------------------------------------------------------------------------
  // Formatting
  // ---------------------------------------------------------------------------

  const PLATFORM_NAMES = { meta: "Meta", google: "Google", linkedin: "LinkedIn", tiktok: "TikTok" };
  const platformName = (platform) => PLATFORM_NAMES[platform] ?? platform;

  const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

  function money(value, currency, compact = false) {
    if (value === null || value === undefined) return "–";
    if (!currency) return decimal.format(value);
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      notation: compact && Math.abs(value) >= 100_000 ? "compact" : "standard",
      maximumFractionDigits: compact && Math.abs(value) >= 1000 ? 0 : undefined,
    }).format(value);
  }

  const percent = (
    value,
  ) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(2)}%`);
  const ratioText = (
    value,
  ) => (value === null || value === undefined ? "–" : `${value.toFixed(2)}×`);
  const count = (value) => (value === null || value === undefined ? "–" : integer.format(value));

  /** The KPI tiles: which API field, how to show it, and which direction is good. */
  const KPIS = [
    { key: "cost", id: "spend", label: "Spend", kind: "money", better: 0 },
    { key: "revenue", id: "revenue", label: "Revenue", kind: "money", better: 1 },
    { key: "roas", id: "roas", label: "ROAS", kind: "ratio", better: 1, money: true },
    { key: "cpa", id: "cpa", label: "CPA", kind: "money", better: -1, money: true },
    { key: "ctr", id: "ctr", label: "CTR", kind: "percent", better: 1 },
    { key: "cpc", id: "cpc", label: "CPC", kind: "money", better: -1, money: true },
    { key: "conversions", id: "conversions", label: "Conversions", kind: "count", better: 1 },
    { key: "impressions", id: "impressions", label: "Impressions", kind: "count", better: 1 },
    { key: "clicks", id: "clicks", label: "Clicks", kind: "count", better: 1 },
  ];

  function formatKpi(kpi, value, currency) {
    if (kpi.kind === "money") return money(value, currency);
    if (kpi.kind === "ratio") return ratioText(value);
    if (kpi.kind === "percent") return percent(value);
    return kpi.key === "conversions" ? decimal.format(value ?? 0) : count(value);
  }

  function timeIn(zone, date) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }).format(date);
  }

  function dateLabel(day) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: "UTC",
      month: "short",
      day: "numeric",
      year: "numeric",
    }).format(new Date(toUtc(day)));
  }

  // ---------------------------------------------------------------------------
  // State: the selection lives in the URL hash, so a view can be linked and reloaded.
  // ---------------------------------------------------------------------------

  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const ZONES = [
    ...new Set([
      browserZone,
      "UTC",
      "America/Los_Angeles",
      "America/New_York",
      "Europe/London",
      "Europe/Berlin",
      "Asia/Kolkata",
      "Asia/Tokyo",
      "Australia/Sydney",
    ]),
  ];

  const state = {
    route: "overview",
    campaignId: null,
    preset: "last7",
    from: "",
    to: "",
    platform: "",
    tz: browserZone,
    currency: "",
    sort: { key: "cost", order: "desc" },
    page: 0,
    campaigns: [],
    version: null,
    loadSeq: 0,
    rendering: false,
    refreshPending: false,
    signedIn: false,
  };

  function selectionParams() {
    return {
      preset: state.preset,
      from: state.from,
      to: state.to,
      platform: state.platform,
      tz: state.tz,
      currency: state.currency,
    };
  }

  function hashFor(route, extra = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...selectionParams(), ...extra })) {
      if (value) params.set(key, value);
    }
    return `#/${route}?${params}`;
  }

  function readHash() {
    const [path, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
    const params = new URLSearchParams(search);
    const [route, id] = path.split("/");
    state.route = ["overview", "campaign", "sources"].includes(route) ? route : "overview";
    state.campaignId = route === "campaign" && id ? decodeURIComponent(id) : null;
    if (state.route === "campaign" && !state.campaignId) state.route = "overview";
    const tz = params.get("tz");
    if (tz && isZone(tz)) state.tz = tz;
    state.platform = PLATFORM_NAMES[params.get("platform")] ? params.get("platform") : "";
    state.currency = /^[A-Z]{3}$/.test(params.get("currency") ?? "") ? params.get("currency") : "";
    const from = params.get("from");
    const to = params.get("to");
    if (isDay(from) && isDay(to) && from <= to) {
      state.from = from;
      state.to = to;
      state.preset = params.get("preset") ?? "custom";
      if (state.preset !== "custom") {
        // A linked preset is re-read for today: "last 7 days" stays the last 7 days.
        Object.assign(state, presetRange(state.preset, state.tz));
      }
    } else {
      state.preset = params.get("preset") ?? state.preset;
      Object.assign(state, presetRange(state.preset, state.tz));
    }
  }

  function isZone(zone) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }

  function writeHash(route = state.route, extra = {}) {
    const next = hashFor(
      route === "campaign" ? `campaign/${encodeURIComponent(state.campaignId)}` : route,
      extra,
    );
    if (location.hash !== next) history.replaceState(null, "", next);
  }

  function syncControls() {
    $("range-preset").value = state.preset;
    $("range-from").value = state.from;
    $("range-to").value = state.to;
    $("platform-filter").value = state.platform;
    $("time-zone").value = state.tz;
    for (const [id, name] of [["nav-overview", "overview"], ["nav-sources", "sources"]]) {
      const current = state.route === name || (name === "overview" && state.route === "campaign");
      if (current) $(id).setAttribute("aria-current", "page");
      else $(id).removeAttribute("aria-current");
    }
    $("filters").hidden = state.route === "sources";
  }

  // ---------------------------------------------------------------------------
  // Banner, "data as of", live updates
  // ---------------------------------------------------------------------------

  let retryTimer;
  function showBanner(message) {
    $("banner").textContent = message;
    $("banner").hidden = false;
  }
  function hideBanner() {
    $("banner").hidden = true;
  }

  function markDataAsOf(date = new Date()) {
    const time = $("data-as-of");
    time.dateTime = date.toISOString();
    time.textContent = timeIn(state.tz, date);
    time.title = date.toISOString();
  }

  let events;
  let refreshTimer;
  function startLive() {
    stopLive();
    events = new EventSource("/events");
    events.addEventListener("version", (event) => {
      $("live-dot").classList.add("on");
      const { version } = JSON.parse(event.data);
      if (state.version === null) {
        state.version = version;
        return;
      }
      if (version === state.version) return;
      state.version = version;
      // Several writes in a burst: one refresh. Data that changes faster than a view
      // loads must not keep restarting it: a refresh waits for the load in flight.
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => {
        if (state.rendering) state.refreshPending = true;
        else render({ quiet: true });
      }, 100);
    });
    events.addEventListener("error", () => {
      $("live-dot").classList.remove("on");
      if (events.readyState === EventSource.CLOSED) {
        // Refused (the session ended?): check, and reconnect while still signed in.
        setTimeout(async () => {
          if (await checkSession()) startLive();
        }, 3000);
      }
    });
  }
  function stopLive() {
    events?.close();
    events = undefined;
    $("live-dot").classList.remove("on");
  }

  /** A failed load: sign-in again on 401, a banner (and a retry) when the API is down. */
  function handleError(error) {
    if (error instanceof ApiError && error.status === 401) {
      showSignIn("Your session has ended. Please sign in again.");
      return;
    }
    const down = error instanceof ApiError && (error.status === 503 || error.status === 0);
    showBanner(
      down
        ? `The analytics service is unavailable right now (${
          error.status === 0 ? "no connection" : "503"
        }). Showing the last data; retrying…`
        : `Could not load the data: ${error.message}`,
    );
    if (down) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => render({ quiet: true }), 5000);
    }
  }

  // ---------------------------------------------------------------------------
  // KPI tiles
  // ---------------------------------------------------------------------------

  function renderKpis(container, current, previous, prefix = "kpi") {
    container.replaceChildren(...KPIS.map((kpi) => {
      const value = current.totals[kpi.key];
      const mixed = current.currency === null && (kpi.kind === "money" || kpi.money);
      const byCurrency = mixed ? current.by_currency ?? [] : [];
      const display = mixed && byCurrency.length
        ? h(
          "span",
          { class: "kpi-value multi" },
          // Each currency against the same currency of the previous period.
          byCurrency.map((row) => {
            const before = previous?.by_currency?.find((other) => other.currency === row.currency);
            return h(
              "span",
              { class: "kpi-line" },
              kpi.kind === "ratio"
                ? `${ratioText(row[kpi.key])} ${row.currency}`
                : money(row[kpi.key], row.currency),
              previous ? delta(kpi, row[kpi.key], before?.[kpi.key] ?? null, false, true) : null,
            );
          }),
        )
        : h("span", { class: "kpi-value" }, formatKpi(kpi, value, current.currency));
      return h(
        "div",
        {
          class: mixed && byCurrency.length > 1 ? "kpi wide" : "kpi",
          "data-testid": `${prefix}-${kpi.id}`,
          "data-value": value === null || value === undefined ? "" : String(value),
          role: "group",
          "aria-label": kpi.label,
        },
        h("span", { class: "kpi-label" }, kpi.label),
        display,
        previous && !(mixed && byCurrency.length)
          ? delta(
            kpi,
            value,
            previous.totals[kpi.key],
            mixed || previous.currency !== current.currency,
          )
          : null,
      );
    }));
    container.classList.remove("loading");
  }

  /** The change against the previous period (`inline`: beside one currency's value). */
  function delta(kpi, now, before, incomparable, inline = false) {
    const tag = inline ? "small" : "span";
    const className = inline ? "kpi-delta inline" : "kpi-delta";
    if (
      incomparable || now === null || before === null || now === undefined || before === undefined
    ) {
      return h(tag, { class: className }, inline ? "" : "no comparison");
    }
    if (before === 0) {
      return h(tag, { class: className }, now === 0 ? "no change" : "new");
    }
    const change = (now - before) / Math.abs(before);
    const arrow = change > 0 ? "▲" : change < 0 ? "▼" : "";
    const tone = change === 0 || kpi.better === 0
      ? ""
      : (change > 0) === (kpi.better > 0)
      ? "good"
      : "bad";
    return h(
      tag,
      {
        class: `${className} ${tone}`,
        title: `previous period: ${formatKpi(kpi, before, null)}`,
        "aria-label": `${change >= 0 ? "up" : "down"} ${
          Math.abs(change * 100).toFixed(1)
        } percent on the previous period`,
      },
      `${arrow} ${Math.abs(change * 100).toFixed(1)}%`,
    );
  }

  function loadingKpis(container, prefix = "kpi") {
    if (container.children.length) {
      container.classList.add("loading");
      return;
    }
    container.replaceChildren(...KPIS.map((kpi) =>
      h(
        "div",
        { class: "kpi", "data-testid": `${prefix}-${kpi.id}`, "aria-busy": "true" },
        h("span", { class: "kpi-label" }, kpi.label),
        h("span", { class: "kpi-value" }, "…"),
        h("span", { class: "kpi-delta" }, "…"),
      )
    ));
    container.classList.add("loading");
  }

  // ---------------------------------------------------------------------------
  // Chart (uPlot)
  // ---------------------------------------------------------------------------

  const charts = new Map();

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function drawChart(container, points, from, to, granularity, currency) {
    const buckets = bucketsOf(from, to, granularity);
    const byBucket = new Map(points.map((point) => [point.bucket, point]));
    const xs = buckets.map(bucketSeconds);
    const spend = buckets.map((bucket) =>
      byBucket.get(bucket)?.cost ?? (byBucket.has(bucket) ? null : 0)
    );
    const revenue = buckets.map((bucket) =>
      byBucket.get(bucket)?.revenue ?? (byBucket.has(bucket) ? null : 0)
    );
    const roas = buckets.map((bucket) => byBucket.get(bucket)?.roas ?? null);
    const width = Math.max(280, Math.floor(container.getBoundingClientRect().width));
    const height = width < 500 ? 240 : 300;
    const axis = {
      stroke: cssVar("--muted"),
      grid: { stroke: cssVar("--grid"), width: 1 },
      ticks: { stroke: cssVar("--grid") },
    };
    const moneyValue = (_u, value) => (value === null ? "–" : money(value, currency, true));
    const options = {
      width,
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { points: { size: 7 } },
      legend: { live: true },
      scales: {
        x: { time: true },
        roas: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.15)] },
      },
      series: [
        { value: granularity === "hour" ? "{MMM} {D} {HH}:00" : "{MMM} {D}, {YYYY}" },
        {
          label: "Spend",
          stroke: cssVar("--spend"),
          width: 2,
          fill: cssVar("--spend") + "22",
          value: moneyValue,
          points: { show: false },
        },
        {
          label: "Revenue",
          stroke: cssVar("--revenue"),
          width: 2,
          value: moneyValue,
          points: { show: false },
        },
        {
          label: "ROAS",
          stroke: cssVar("--roas"),
          width: 2,
          dash: [6, 4],
          scale: "roas",
          value: (_u, v) => ratioText(v),
          points: { show: false },
          spanGaps: false,
        },
      ],
      axes: [
        {
          ...axis,
          space: 56,
          incrs: granularity === "hour"
            ? [3600, 7200, 10800, 21600, 43200, 86400]
            : [86400, 172800, 604800, 1209600, 2592000],
          values: granularity === "hour" ? "{HH}:00\n{MMM} {D}" : "{MMM} {D}",
        },
        {
          ...axis,
          values: (_u, ticks) => ticks.map((value) => money(value, currency, true)),
          size: 64,
        },
        {
          ...axis,
          side: 1,
          scale: "roas",
          grid: { show: false },
          values: (_u, ticks) => ticks.map((v) => `${v.toFixed(1)}×`),
          size: 48,
        },
      ],
    };
    charts.get(container)?.destroy();
    container.replaceChildren();
    const chart = new uPlot(options, [xs, spend, revenue, roas], container);
    charts.set(container, chart);
  }

  // Charts follow their box's width (phone rotation, the Ask column wrapping).
  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = charts.get(entry.target);
      const width = Math.floor(entry.contentRect.width);
      if (chart && width > 0 && Math.abs(chart.width - width) > 2) {
        chart.setSize({ width: Math.max(280, width), height: width < 500 ? 240 : 300 });
      }
    }
  });

  // ---------------------------------------------------------------------------
  // Tables
  // ---------------------------------------------------------------------------

  function emptyRow(table, text, columns) {
    table.replaceChildren(
      h("tbody", {}, h("tr", {}, h("td", { class: "empty", colspan: columns }, text))),
    );
  }

  function renderPlatforms(table, groups, mixed) {
    if (!groups.length) return emptyRow(table, "No data for this selection.", 8);
    const totalSpend = groups.reduce((sum, group) => sum + (group.cost ?? 0), 0);
    table.replaceChildren(
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Platform", "Spend", "Revenue", "ROAS", "Conversions", "CPA", "Clicks", "CTR"].map((
            text,
          ) => h("th", { scope: "col" }, text)),
        ),
      ),
      h(
        "tbody",
        {},
        groups.map((group) => {
          const share = h("span", { class: "share" });
          share.style.width = `${
            totalSpend && !mixed ? Math.round(((group.cost ?? 0) / totalSpend) * 60) : 0
          }px`;
          return h(
            "tr",
            { "data-platform": group.platform },
            h(
              "td",
              {},
              h("span", { class: "platform-badge" }, platformName(group.platform)),
              mixed && group.currency
                ? h("span", { class: "muted small" }, ` ${group.currency}`)
                : null,
            ),
            h("td", {}, share, money(group.cost, group.currency)),
            h("td", {}, money(group.revenue, group.currency)),
            h("td", {}, ratioText(group.roas)),
            h("td", {}, decimal.format(group.conversions)),
            h("td", {}, money(group.cpa, group.currency)),
            h("td", {}, count(group.clicks)),
            h("td", {}, percent(group.ctr)),
          );
        }),
      ),
    );
  }

  const CAMPAIGN_COLUMNS = [
    { key: "campaign_name", label: "Campaign", left: true },
    { key: "platform", label: "Platform", left: true },
    { key: "cost", label: "Spend", money: true },
    { key: "revenue", label: "Revenue", money: true },
    { key: "roas", label: "ROAS", format: ratioText },
    { key: "conversions", label: "Conv.", format: (v) => decimal.format(v) },
    { key: "cpa", label: "CPA", money: true },
    { key: "clicks", label: "Clicks", format: count },
    { key: "ctr", label: "CTR", format: percent },
    { key: "cpc", label: "CPC", money: true },
    { key: "impressions", label: "Impr.", format: count },
  ];
  const PAGE_SIZE = 15;

  function sortedCampaigns() {
    const { key, order } = state.sort;
    const sign = order === "asc" ? 1 : -1;
    return [...state.campaigns].sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (typeof x === "string" ? x.localeCompare(y) : x - y) * sign;
    });
  }

  function renderCampaigns() {
    const table = $("campaigns-table");
    const rows = sortedCampaigns();
    $("campaigns-count").textContent = rows.length ? `${rows.length} campaigns with delivery` : "";
    if (!rows.length) {
      emptyRow(table, "No campaign delivered in this period.", CAMPAIGN_COLUMNS.length);
      $("campaigns-pager").replaceChildren();
      return;
    }
    const pages = Math.ceil(rows.length / PAGE_SIZE);
    state.page = Math.min(state.page, pages - 1);
    const visible = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    const head = h(
      "tr",
      {},
      CAMPAIGN_COLUMNS.map((column) => {
        const active = state.sort.key === column.key;
        return h(
          "th",
          {
            scope: "col",
            class: column.left ? "left" : "",
            "aria-sort": active
              ? (state.sort.order === "asc" ? "ascending" : "descending")
              : "none",
          },
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "aria-pressed": active ? "true" : "false",
              "data-sort": column.key,
              onclick: () => {
                state.sort = {
                  key: column.key,
                  order: active && state.sort.order === "desc"
                    ? "asc"
                    : active
                    ? "desc"
                    : column.left
                    ? "asc"
                    : "desc",
                };
                state.page = 0;
                renderCampaigns();
                table.querySelector(`[data-sort="${column.key}"]`)?.focus();
              },
            },
            column.label,
            active ? (state.sort.order === "asc" ? " ↑" : " ↓") : "",
          ),
        );
      }),
    );
    const body = h(
      "tbody",
      {},
      visible.map((row) => {
        const href = hashFor(`campaign/${encodeURIComponent(row.campaign_id)}`);
        return h(
          "tr",
          {
            class: "clickable",
            "data-testid": "campaign-row",
            "data-campaign-id": row.campaign_id,
            onclick: (event) => {
              if (event.target.closest("a")) return;
              location.hash = href;
            },
          },
          CAMPAIGN_COLUMNS.map((column) => {
            const value = row[column.key];
            if (column.key === "campaign_name") {
              return h("td", { class: "left wrap" }, h("a", { href }, value ?? row.campaign_id));
            }
            if (column.key === "platform") {
              return h(
                "td",
                { class: "left" },
                h("span", { class: "platform-badge" }, platformName(value)),
              );
            }
            return h("td", {}, column.money ? money(value, row.currency) : column.format(value));
          }),
        );
      }),
    );
    table.replaceChildren(h("thead", {}, head), body);
    const pager = $("campaigns-pager");
    pager.replaceChildren(
      h("button", {
        type: "button",
        class: "button",
        disabled: state.page === 0,
        onclick: () => {
          state.page--;
          renderCampaigns();
        },
      }, "Previous"),
      h("span", { class: "muted small" }, `Page ${state.page + 1} of ${pages}`),
      h("button", {
        type: "button",
        class: "button",
        disabled: state.page >= pages - 1,
        onclick: () => {
          state.page++;
          renderCampaigns();
        },
      }, "Next"),
    );
  }

  // ---------------------------------------------------------------------------
  // Views
  // ---------------------------------------------------------------------------

  function baseParams() {
    return {
      tz: state.tz,
      platform: state.platform || undefined,
      currency: state.currency || undefined,
    };
  }

  const knownCurrencies = new Set();

  function updateCurrencies(current) {
    const field = $("currency-field");
    const select = $("currency-filter");
    // Every currency the tenant's money was seen in (a converted answer lists only its
    // sources), so the choice stays offered after switching to one of them.
    for (const row of current.by_currency ?? []) knownCurrencies.add(row.currency);
    for (const source of current.fx?.converted ?? []) knownCurrencies.add(source.from);
    if (current.currency) knownCurrencies.add(current.currency);
    if (state.currency) knownCurrencies.add(state.currency);
    if (knownCurrencies.size < 2 && !state.currency) {
      field.hidden = true;
      return;
    }
    field.hidden = false;
    select.replaceChildren(
      h("option", { value: "" }, "As stored (each apart)"),
      ...[...knownCurrencies].sort().map((code) =>
        h("option", { value: code }, `Convert to ${code}`)
      ),
    );
    select.value = state.currency;
  }

  async function renderOverview({ quiet, seq }) {
    const { from, to } = state;
    if (!quiet) {
      loadingKpis($("kpis"));
    }
    // Conversion uses one rate a day, so converted money has no hourly buckets.
    const natural = granularityFor(from, to);
    const granularity = state.currency && natural === "hour" ? "day" : natural;
    const prev = previousRange(from, to);
    const base = baseParams();
    const currentRequest = api(`/insights${query({ ...base, from, to })}`);
    const previousRequest = api(`/insights${query({ ...base, from: prev.from, to: prev.to })}`);
    // Money is never added across currencies: with several, the chart shows the one with
    // the most delivery (impressions), and says so.
    const chartRequest = currentRequest.then(async (current) => {
      const mixed = current.currency === null && (current.by_currency?.length ?? 0) > 1;
      const currency = mixed
        ? [...current.by_currency].sort((a, b) => b.impressions - a.impressions)[0].currency
        : current.currency;
      const series = await api(
        `/insights${
          query({
            ...base,
            // Mixed money: the chart keeps to the rows stored in its one currency.
            source_currency: mixed ? currency : undefined,
            from,
            to,
            group_by: granularity,
            limit: 1000,
          })
        }`,
      );
      return { series, currency, mixed };
    });
    // The tables are not needed for the first paint: they queue behind the tiles and chart.
    const platformsRequest = chartRequest.then(() =>
      api(`/insights${query({ ...base, from, to, group_by: "platform", limit: 50 })}`)
    );
    const campaignsRequest = chartRequest.then(() =>
      api(
        `/insights${
          query({ ...base, from, to, group_by: "campaign", order_by: "cost", limit: 1000 })
        }`,
      )
    );
    // Rejections are handled where each is awaited; these only keep them from going unheard.
    platformsRequest.catch(() => {});
    campaignsRequest.catch(() => {});

    const [current, previous, chart] = await Promise.all([
      currentRequest,
      previousRequest,
      chartRequest,
    ]);
    if (seq !== state.loadSeq) return;
    const days = daysBetween(from, to) + 1;
    $("overview-subtitle").textContent = `${dateLabel(from)} – ${dateLabel(to)} · ${
      state.platform ? platformName(state.platform) : "all platforms"
    } · ${state.tz} · changes against the previous ${days} day${days > 1 ? "s" : ""} (${
      dateLabel(prev.from)
    } – ${dateLabel(prev.to)})`;
    updateCurrencies(current);
    renderKpis($("kpis"), current, previous);
    $("chart-granularity").textContent = granularity === "hour" ? "by hour" : "by day";
    const note = $("chart-note");
    note.hidden = !chart.mixed;
    note.textContent = chart.mixed
      ? `Several currencies: money is never added across them. The chart shows ${chart.currency} only; pick a currency above to see another.`
      : "";
    $("chart-title").textContent = chart.mixed
      ? `Spend and revenue (${chart.currency})`
      : "Spend and revenue";
    drawChart($("chart"), chart.series.groups ?? [], from, to, granularity, chart.currency);
    markReady();

    const [platforms, campaigns] = await Promise.all([platformsRequest, campaignsRequest]);
    if (seq !== state.loadSeq) return;
    renderPlatforms($("platforms-table"), platforms.groups ?? [], chart.mixed);
    state.campaigns = (campaigns.groups ?? []).map((group) => ({
      ...group,
      campaign_name: group.campaign_name ?? group.campaign_id,
    }));
    renderCampaigns();
  }

  async function renderCampaign({ quiet, seq }) {
    const id = state.campaignId;
    const { from, to } = state;
    if (!quiet) loadingKpis($("campaign-kpis"), "campaign-kpi");
    // Conversion uses one rate a day, so converted money has no hourly buckets.
    const natural = granularityFor(from, to);
    const granularity = state.currency && natural === "hour" ? "day" : natural;
    const prev = previousRange(from, to);
    const base = baseParams();
    const path = `/campaign/${encodeURIComponent(id)}/insights`;
    const [current, previous, lifetime, catalog, sources] = await Promise.all([
      api(`${path}${query({ ...base, from, to, granularity })}`),
      api(`${path}${query({ ...base, from: prev.from, to: prev.to })}`),
      api(`${path}${query({ tz: state.tz })}`),
      api(`/campaigns${query({ q: id, limit: 100 })}`).catch(() => ({ campaigns: [] })),
      api("/sources").catch(() => ({ sources: [] })),
    ]);
    if (seq !== state.loadSeq) return;
    $("campaign-title").textContent = current.campaign_name ?? id;
    $("campaign-back").href = hashFor("overview");
    $("campaign-subtitle").textContent = `${id} · ${dateLabel(from)} – ${dateLabel(to)} · ${
      state.platform ? platformName(state.platform) : "all platforms"
    }`;
    renderKpis($("campaign-kpis"), current, previous, "campaign-kpi");
    $("campaign-chart-granularity").textContent = granularity === "hour" ? "by hour" : "by day";
    drawChart($("campaign-chart"), current.series ?? [], from, to, granularity, current.currency);
    renderPlatforms(
      $("campaign-platforms"),
      (current.by_platform ?? []).map((row) => ({ ...row, currency: current.currency })),
      current.currency === null,
    );
    const t = lifetime.totals;
    $("campaign-lifetime").replaceChildren(
      ...[
        ["First day", lifetime.from ?? "–"],
        ["Last day", lifetime.to ?? "–"],
        [
          "Spend",
          lifetime.currency
            ? money(t.cost, lifetime.currency)
            : (lifetime.by_currency ?? []).map((r) => money(r.cost, r.currency)).join(" · "),
        ],
        [
          "Revenue",
          lifetime.currency
            ? money(t.revenue, lifetime.currency)
            : (lifetime.by_currency ?? []).map((r) => money(r.revenue, r.currency)).join(" · "),
        ],
        ["ROAS", ratioText(t.roas)],
        ["Conversions", decimal.format(t.conversions)],
        ["Clicks", count(t.clicks)],
        ["Impressions", count(t.impressions)],
      ].flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
    );
    const entries = (catalog.campaigns ?? []).filter((entry) => entry.campaign_id === id);
    const table = $("campaign-sources");
    if (!entries.length) {
      emptyRow(table, "No catalog entry for this campaign.", 6);
    } else {
      const syncs = (sources.sources ?? []).filter((source) =>
        source.rows_accepted > 0 || source.configured
      );
      table.replaceChildren(
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Platform", "Account", "Status", "Currency", "First seen", "Last seen"].map((text) =>
              h("th", { scope: "col", class: "left" }, text)
            ),
          ),
        ),
        h(
          "tbody",
          {},
          entries.map((entry) =>
            h(
              "tr",
              {},
              h(
                "td",
                { class: "left" },
                h("span", { class: "platform-badge" }, platformName(entry.platform)),
              ),
              h("td", { class: "left" }, entry.account_id),
              h("td", { class: "left" }, entry.status ?? "–"),
              h("td", { class: "left" }, entry.currency ?? "–"),
              h(
                "td",
                { class: "left" },
                entry.first_seen ? entry.first_seen.slice(0, 16).replace("T", " ") : "–",
              ),
              h(
                "td",
                { class: "left" },
                entry.last_seen ? entry.last_seen.slice(0, 16).replace("T", " ") : "–",
              ),
            )
          ),
        ),
        syncs.length
          ? h(
            "tfoot",
            {},
            h(
              "tr",
              {},
              h(
                "td",
                { class: "left muted small", colspan: 6 },
                `Ingested by: ${syncs.map((s) => s.source).join(", ")} (see Sources)`,
              ),
            ),
          )
          : null,
      );
    }
  }

  function lagText(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return `${seconds} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
    return `${Math.round(seconds / 86400)} d`;
  }

  const stamp = (
    iso,
  ) => (iso
    ? new Date(iso).toLocaleString("en-GB", {
      timeZone: state.tz,
      dateStyle: "medium",
      timeStyle: "medium",
    })
    : "–");

  async function renderSources({ seq }) {
    const [sources, rejects] = await Promise.all([
      api("/sources"),
      api("/sources/rejects?limit=100"),
    ]);
    if (seq !== state.loadSeq) return;
    const table = $("sources-table");
    if (!sources.sources.length) {
      emptyRow(table, "No source has run yet.", 7);
    } else {
      table.replaceChildren(
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [
              "Source",
              "Last sync",
              "Lag",
              "Rows accepted",
              "Rows rejected",
              "Running",
              "Last error",
            ].map((text, i) =>
              h("th", { scope: "col", class: i === 0 || i === 6 ? "left" : "" }, text)
            ),
          ),
        ),
        h(
          "tbody",
          {},
          sources.sources.map((source) =>
            h(
              "tr",
              { "data-source": source.source },
              h(
                "td",
                { class: "left" },
                h("strong", {}, source.source),
                source.configured ? "" : h("span", { class: "muted small" }, " (not run here)"),
              ),
              h("td", {}, stamp(source.last_success_at)),
              h("td", {}, lagText(source.lag_seconds)),
              h("td", {}, count(source.rows_accepted)),
              h("td", {}, count(source.rows_rejected)),
              h(
                "td",
                {},
                source.running
                  ? h("span", { class: "status-ok" }, `${source.running} running`)
                  : "–",
              ),
              h(
                "td",
                { class: "left wrap" },
                source.last_error
                  ? h(
                    "span",
                    { class: "status-error" },
                    `${source.last_error} (${stamp(source.last_error_at)})`,
                  )
                  : h("span", { class: "status-ok" }, "none"),
              ),
            )
          ),
        ),
      );
    }
    const rejectsTable = $("rejects-table");
    if (!rejects.rejects.length) {
      emptyRow(rejectsTable, "No rejected rows.", 5);
    } else {
      rejectsTable.replaceChildren(
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Received", "Source", "Row", "Field", "Reason"].map((text) =>
              h("th", { scope: "col", class: "left" }, text)
            ),
          ),
        ),
        h(
          "tbody",
          {},
          rejects.rejects.map((reject) => {
            const payload = reject.payload && typeof reject.payload === "object"
              ? reject.payload
              : {};
            const row = [payload.campaign_id, payload.ts].filter(Boolean).join(" · ");
            return h(
              "tr",
              { "data-testid": "reject-row" },
              h("td", { class: "left" }, stamp(reject.received_at)),
              h("td", { class: "left" }, reject.source),
              h("td", { class: "left" }, `#${reject.row_index}${row ? ` (${row})` : ""}`),
              h("td", { class: "left" }, h("code", {}, reject.field)),
              h("td", { class: "left wrap" }, reject.reason),
            );
          }),
        ),
      );
    }
  }

  /** The first view is drawn (the benchmark and tests wait for this). */
  function markReady() {
    if (document.documentElement.dataset.ready) return;
    document.documentElement.dataset.ready = "true";
    performance.mark("dashboard-ready");
  }

  async function render({ quiet = false } = {}) {
    if (!state.signedIn) return;
    const seq = ++state.loadSeq;
    state.rendering = true;
    state.refreshPending = false;
    syncControls();
    for (const page of ["overview", "campaign", "sources"]) $(page).hidden = page !== state.route;
    try {
      if (state.route === "overview") await renderOverview({ quiet, seq });
      else if (state.route === "campaign") await renderCampaign({ quiet, seq });
      else await renderSources({ seq });
      if (seq !== state.loadSeq) return;
      hideBanner();
      clearTimeout(retryTimer);
      markDataAsOf();
      markReady();
    } catch (error) {
      if (seq !== state.loadSeq) return;
      if (error instanceof ApiError && error.status === 404 && state.route === "campaign") {
        showBanner(`Campaign "${state.campaignId}" was not found.`);
        return;
      }
      handleError(error);
    } finally {
      if (seq === state.loadSeq) {
        state.rendering = false;
        if (state.refreshPending) {
          state.refreshPending = false;
          render({ quiet: true });
        }
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Ask
  // ---------------------------------------------------------------------------

  function chipsFor(parsed) {
    const chips = [];
    if (parsed.intent && parsed.intent !== "unknown") chips.push(parsed.intent.replace("_", " "));
    for (const metric of parsed.metrics ?? []) {
      chips.push(metric.toUpperCase().length <= 4 ? metric.toUpperCase() : metric);
    }
    for (const platform of parsed.platforms ?? []) chips.push(platformName(platform));
    if (parsed.date_range) chips.push(`${parsed.date_range.from} → ${parsed.date_range.to}`);
    if (parsed.compare_to) chips.push(`vs ${parsed.compare_to.from} → ${parsed.compare_to.to}`);
    if (parsed.campaign) {
      chips.push(
        parsed.campaign.type === "latest"
          ? "latest campaign"
          : `campaign: ${parsed.campaign.value}`,
      );
    }
    if (parsed.group_by) chips.push(`by ${parsed.group_by}`);
    return chips;
  }

  function overviewLinkFor(parsed) {
    const extra = { preset: "custom" };
    if (parsed.date_range) Object.assign(extra, parsed.date_range);
    else Object.assign(extra, { preset: state.preset, from: state.from, to: state.to });
    extra.platform = parsed.platforms?.length === 1 ? parsed.platforms[0] : "";
    if (parsed.campaign?.type === "id") {
      return hashFor(`campaign/${encodeURIComponent(parsed.campaign.value)}`, extra);
    }
    return hashFor("overview", extra);
  }

  async function ask(prompt) {
    const log = $("ask-log");
    log.append(h("li", { class: "ask-q" }, prompt));
    const answer = h(
      "li",
      { class: "ask-a", "aria-busy": "true" },
      h("p", { class: "ask-reply muted" }, "Thinking…"),
    );
    log.append(answer);
    answer.scrollIntoView({ block: "nearest" });
    $("ask-submit").disabled = true;
    try {
      const result = await api("/prompt", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt }),
      });
      const chips = chipsFor(result.query ?? {});
      answer.replaceChildren(
        h("p", { class: "ask-reply", "data-testid": "ask-reply" }, result.reply),
        chips.length
          ? h(
            "ul",
            { class: "chips", "aria-label": "What was understood" },
            chips.map((chip) => h("li", { class: "chip", "data-testid": "ask-chip" }, chip)),
          )
          : null,
        result.query && result.query.intent !== "unknown"
          ? h(
            "a",
            { href: overviewLinkFor(result.query), "data-testid": "ask-open" },
            "Open this selection in the dashboard →",
          )
          : null,
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        return showSignIn("Your session has ended. Please sign in again.");
      }
      answer.replaceChildren(
        h(
          "p",
          { class: "ask-reply form-error", "data-testid": "ask-reply" },
          `No answer: ${error.message}`,
        ),
      );
    } finally {
      answer.removeAttribute("aria-busy");
      $("ask-submit").disabled = false;
      answer.scrollIntoView({ block: "nearest" });
    }
  }

  // ---------------------------------------------------------------------------
  // Sign-in
  // ---------------------------------------------------------------------------

  function showSignIn(message) {
    state.signedIn = false;
    stopLive();
    $("app").hidden = true;
    $("signin").hidden = false;
    const error = $("signin-error");
    error.hidden = !message;
    error.textContent = message ?? "";
    $("signin-key").focus();
  }

  function showApp(session) {
    state.signedIn = true;
    state.version = null;
    $("tenant").textContent = session.tenant;
    $("tenant").title = `scopes: ${session.scopes.join(", ")}`;
    $("signin").hidden = true;
    $("app").hidden = false;
    readHash();
    writeHash();
    startLive();
    render();
  }

  async function checkSession() {
    try {
      const session = await api("/session");
      return session.signed_in ? session : null;
    } catch {
      return null;
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $("signin-key");
    const token = input.value.trim();
    const error = $("signin-error");
    if (!token) {
      error.textContent = "Enter an API key or a JWT.";
      error.hidden = false;
      input.focus();
      return;
    }
    $("signin-submit").disabled = true;
    performance.mark("signin-submitted");
    try {
      const session = await api("/session", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
      });
      input.value = "";
      error.hidden = true;
      performance.mark("signed-in");
      showApp(session);
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? "That key or token was not accepted. Check it and try again."
        : `Sign-in failed: ${failure.message}`;
      error.hidden = false;
      input.select();
    } finally {
      $("signin-submit").disabled = false;
    }
  }

  async function signOut() {
    await api("/session", { method: "DELETE" }).catch(() => {});
    showSignIn();
  }

  // ---------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------

  function onSelectionChange() {
    state.page = 0;
    writeHash();
    render();
  }

  function init() {
    $("time-zone").replaceChildren(
      ...ZONES.map((zone) =>
        h("option", { value: zone }, zone === browserZone ? `${zone} (this device)` : zone)
      ),
    );
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    $("range-preset").addEventListener("change", (event) => {
      state.preset = event.target.value;
      if (state.preset !== "custom") Object.assign(state, presetRange(state.preset, state.tz));
      onSelectionChange();
    });
    for (const id of ["range-from", "range-to"]) {
      $(id).addEventListener("change", () => {
        const from = $("range-from").value;
        const to = $("range-to").value;
        const problem = !isDay(from) || !isDay(to)
          ? "Enter both dates."
          : from > to
          ? "The start date is after the end date."
          : "";
        $("range-error").textContent = problem;
        $("range-error").hidden = !problem;
        if (problem) return;
        Object.assign(state, { from, to, preset: "custom" });
        onSelectionChange();
      });
    }
    $("platform-filter").addEventListener("change", (event) => {
      state.platform = event.target.value;
      onSelectionChange();
    });
    $("time-zone").addEventListener("change", (event) => {
      state.tz = event.target.value;
      if (state.preset !== "custom") Object.assign(state, presetRange(state.preset, state.tz));
      onSelectionChange();
    });
    $("currency-filter").addEventListener("change", (event) => {
      state.currency = event.target.value;
      onSelectionChange();
    });
    $("ask-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const prompt = $("ask-input").value.trim();
      if (!prompt) return;
      $("ask-input").value = "";
      ask(prompt);
    });
    for (const example of document.querySelectorAll(".example")) {
      example.addEventListener("click", () => ask(example.textContent.trim()));
    }
    addEventListener("hashchange", () => {
      if (!state.signedIn) return;
      const before = state.route;
      readHash();
      render();
      if (before !== state.route) $("view").focus({ preventScroll: true });
    });
    resizer.observe($("chart"));
    resizer.observe($("campaign-chart"));
    checkSession().then((session) => (session ? showApp(session) : showSignIn()));
  }

  init();
})();
