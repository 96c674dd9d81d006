# syntax=docker/dockerfile:1
#
# One image for every role; the command picks the subcommand of main.ts:
#   docker run IMAGE                 -> serve  (API + /prompt + ingestion, port 8080; the default)
#   docker run IMAGE bot             -> bot    (the chat bot alone, port 8081)
#   docker run IMAGE ingest [--source meta] [--from YYYY-MM-DD --to YYYY-MM-DD]
#   docker run IMAGE migrate
#
# Dependencies are installed at build time from deno.lock (--frozen) and the process runs
# with --cached-only: a running container never downloads code.

# The official image (Debian-based; it ships the `deno` user, uid 1993, DENO_DIR=/deno-dir
# and /tini), pinned to the Deno release the project is developed and tested with.
FROM denoland/deno:2.9.6

ENV DENO_NO_UPDATE_CHECK=1 \
    DENO_NO_PROMPT=1 \
    PORT=8080 \
    BOT_PORT=8081 \
    DATA_DIR=/data

WORKDIR /app

# 1. Dependencies only: this layer is rebuilt when deno.json or deno.lock change, not on
#    every source edit. `--frozen` fails the build if deno.lock does not match deno.json.
COPY deno.json deno.lock ./
RUN deno install --frozen

# 2. The sources (see .dockerignore), then everything main.ts imports resolved and cached.
#    Code and node_modules stay owned by root (read-only for the app user); the app user
#    may write only DENO_DIR (V8 code cache) and /data (the embedded database). The embedded
#    database's worker is started by URL, so it is named here to be cached too.
COPY . .
RUN deno cache --frozen main.ts runtime/pglite_worker.ts \
    && mkdir -p /data \
    && chown -R deno:deno /data /deno-dir

# Embedded mode (no DATABASE_URL) keeps its database here: mount a volume on it.
VOLUME ["/data"]

USER deno

# 8080: serve (PORT), 8081: bot (BOT_PORT).
EXPOSE 8080 8081

# The image has no curl: Deno itself probes /healthz. HEALTHCHECK_URL overrides the target
# (the bot container sets it to its own port, 8081).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["deno", "eval", "--no-config", "const url = Deno.env.get('HEALTHCHECK_URL') || 'http://127.0.0.1:' + (Deno.env.get('PORT') || '8080') + '/healthz'; const res = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => null); await res?.body?.cancel(); Deno.exit(res?.ok ? 0 : 1);"]

# tini (PID 1) forwards SIGTERM/SIGINT to deno, so `docker stop` drains in-flight requests.
# Permissions, narrowest that work (verified with the same flags outside Docker):
#   --allow-net              listen, PostgreSQL, Redis/Upstash, ad platform APIs, JWKS
#   --allow-env              configuration is the environment (read as a whole)
#   --allow-sys=hostname     the runner name recorded with each ingestion run
#   --allow-read=/app,/data  PGlite's own files in node_modules, and its data directory
#   --allow-write=/data      the embedded database (keep DATA_DIR under /data)
#   --unstable-cron          scheduled ingestion (Deno.cron) when DATA_SOURCE=real
ENTRYPOINT ["/tini", "--", "deno", "run", "--cached-only", "--frozen", "--no-prompt", \
    "--allow-net", "--allow-env", "--allow-sys=hostname", \
    "--allow-read=/app,/data", "--allow-write=/data", \
    "--unstable-cron", "main.ts"]
CMD ["serve"]
