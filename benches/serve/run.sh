#!/usr/bin/env bash
# Feed-server benchmark: portalfeed's cached feed against nginx serving the same bytes.
#
#   bash benches/serve/run.sh [--items N] [--sources K] [--duration S] [--connections C]
#                             [--threads T] [--keep] [--no-build]
#
# Targets (from the issue), with 50,000 stored items over 20 sources: a cached feed served at no
# less than half the requests per second nginx serves the same bytes as a static file, both
# measured with wrk on loopback in one run; a 304 answer at least as fast; server RSS under 64 MiB
# while serving. (Rendering a 50-item feed uncached is `cargo bench --bench feed`.)
#
# Steps: install nginx, wrk and time with apt-get when missing; build the release binary and the
# fill_db example; fill a temp database (examples/fill_db.rs); start `portalfeed serve` on
# 127.0.0.1:18080 (RUST_LOG=warn) and wait for /healthz; fetch /feeds/s01.rss once (this also
# fills the cache) and serve that file with nginx (one worker, sendfile, access log off) on
# 127.0.0.1:18081; then run wrk one after another: nginx's static file, portalfeed's cached feed,
# portalfeed's 304 (If-None-Match with the feed's ETag). Prints requests/s, the ratios, and
# portalfeed's VmHWM/VmRSS after the load. A fourth run, not part of the targets, asks portalfeed
# for the feed with `Accept-Encoding: gzip`, as feed readers do (compressed per response).
# "A 304 at least as fast" is read as: 304 requests/s >= the cached feed's; 304/nginx is shown too.
#
# wrk and the servers share the machine's cores (2 on the reference machine): the figures are
# for comparison within one run, not absolute capacity. Everything stays on 127.0.0.1; the servers
# and the temp folder are removed on exit (--keep keeps the folder).
set -euo pipefail

ITEMS=50000
SOURCES=20
DURATION=10
CONNECTIONS=32
THREADS=2
KEEP=0
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --items) ITEMS="$2"; shift 2 ;;
        --sources) SOURCES="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD=0; shift ;;
        *)
            echo "usage: $0 [--items N] [--sources K] [--duration S] [--connections C] [--threads T] [--keep] [--no-build]" >&2
            exit 2
            ;;
    esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/portalfeed"
FILL="$TARGET/release/examples/fill_db"
PF_PORT=18080 # fill_db writes this into the config
NGINX_PORT=18081
PF="http://127.0.0.1:$PF_PORT"
NG="http://127.0.0.1:$NGINX_PORT"

# --- tools -----------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
    echo "== apt-get install ${missing[*]}"
    SUDO=()
    [[ "$(id -u)" == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# --- build -----------------------------------------------------------------------------------
if [[ "$BUILD" == 1 ]]; then
    echo "== build (release)"
    (cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example fill_db)
fi
for b in "$BIN" "$FILL"; do
    if [[ ! -x "$b" ]]; then
        echo "serve: no binary at $b (run without --no-build)" >&2
        exit 1
    fi
done

# --- temp folder and cleanup -----------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/portalfeed-serve.XXXXXX")"
PF_PID=""
NG_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$PF_PID" ]] && kill -0 "$PF_PID" 2>/dev/null; then
        kill -TERM "$PF_PID" 2>/dev/null || true
        wait "$PF_PID" 2>/dev/null || true
    fi
    if [[ -n "$NG_PID" ]] && kill -0 "$NG_PID" 2>/dev/null; then
        kill -QUIT "$NG_PID" 2>/dev/null || true
        wait "$NG_PID" 2>/dev/null || true
    fi
    if [[ "$KEEP" == 1 ]]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$PF_PORT" "$NGINX_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "serve: 127.0.0.1:$port is already in use" >&2
        exit 1
    fi
done

# --- data ------------------------------------------------------------------------------------
echo "== fill $ITEMS items over $SOURCES sources"
"$FILL" "$TMP/feeds.db" "$TMP/portalfeed.toml" "$ITEMS" "$SOURCES"

# --- portalfeed ------------------------------------------------------------------------------
echo "== start portalfeed serve on $PF"
RUST_LOG=warn "$BIN" --config "$TMP/portalfeed.toml" serve 2>"$TMP/portalfeed.log" &
PF_PID=$!
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$PF/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$PF_PID" 2>/dev/null; then
        echo "serve: portalfeed exited:" >&2
        cat "$TMP/portalfeed.log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS -o /dev/null "$PF/healthz"

mem() { # VmHWM and VmRSS of the server, in MiB
    awk '/^VmHWM|^VmRSS/ { printf "%s %.1f MiB  ", $1, $2 / 1024 }' "/proc/$PF_PID/status"
}
echo "   memory after start: $(mem)"

# The first request renders (a cache miss); its time is shown for reference.
MISS="$(curl -fsS -o "$TMP/s01.rss" -D "$TMP/s01.headers" -w '%{time_total}' "$PF/feeds/s01.rss")"
ETAG="$(awk 'tolower($1) == "etag:" { sub(/\r$/, "", $2); print $2 }' "$TMP/s01.headers")"
SIZE="$(stat -c %s "$TMP/s01.rss")"
if [[ -z "$ETAG" ]] || ((SIZE < 1000)); then
    echo "serve: /feeds/s01.rss looks wrong (ETag '$ETAG', $SIZE bytes)" >&2
    exit 1
fi
echo "   /feeds/s01.rss: $SIZE bytes, ETag $ETAG, first (uncached) request ${MISS}s"
CODE="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$PF/feeds/s01.rss")"
if [[ "$CODE" != 304 ]]; then
    echo "serve: If-None-Match answered $CODE, not 304" >&2
    exit 1
fi

# --- nginx -----------------------------------------------------------------------------------
mkdir -p "$TMP/www" "$TMP/nginx/logs" "$TMP/nginx/tmp"
cp "$TMP/s01.rss" "$TMP/www/s01.rss"
# Run as root, nginx's worker drops to nobody: it must be able to read the file.
chmod 755 "$TMP" "$TMP/www"
chmod 644 "$TMP/www/s01.rss"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/rss+xml;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location / { types { } default_type application/rss+xml; }
    }
}
EOF
echo "== start nginx on $NG (1 worker)"
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/logs/stderr.log" &
NG_PID=$!
for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "$NG/s01.rss" 2>/dev/null && break
    if ! kill -0 "$NG_PID" 2>/dev/null; then
        echo "serve: nginx exited:" >&2
        cat "$TMP/nginx/logs/stderr.log" "$TMP/nginx/logs/error.log" >&2 || true
        exit 1
    fi
    sleep 0.1
done
if ! cmp -s <(curl -fsS "$NG/s01.rss") "$TMP/s01.rss"; then
    echo "serve: nginx does not serve the same bytes" >&2
    exit 1
fi

# --- load ------------------------------------------------------------------------------------
WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
run_wrk() { # name, wrk args…; prints wrk's output to the log and returns requests/s
    local name="$1"
    shift
    "${WRK[@]}" "$@" >"$TMP/wrk-$name.txt" 2>&1
    {
        echo "--- $name: ${WRK[*]} $*"
        cat "$TMP/wrk-$name.txt"
    } >&2
    awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-$name.txt"
}
check_wrk() { # name: fails on socket errors or non-2xx/3xx answers
    if grep -Eq 'Non-2xx or 3xx|Socket errors' "$TMP/wrk-$1.txt"; then
        echo "serve: wrk reported errors for $1 (see above)" >&2
        exit 1
    fi
}

echo "== wrk ${WRK[*]} (wrk and both servers share $(nproc) cores)"
NGINX_RPS="$(run_wrk nginx "$NG/s01.rss")"
check_wrk nginx
PF_RPS="$(run_wrk cached "$PF/feeds/s01.rss")"
check_wrk cached
PF304_RPS="$(run_wrk not-modified -H "If-None-Match: $ETAG" "$PF/feeds/s01.rss")"
check_wrk not-modified
MEMORY="$(mem)"
HWM_MIB="$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$PF_PID/status")"
# Not part of the targets: what a feed reader that sends Accept-Encoding gets (compressed per
# response by the server's CompressionLayer); nginx here serves the file uncompressed either way.
PFGZ_RPS="$(run_wrk cached-gzip -H "Accept-Encoding: gzip" "$PF/feeds/s01.rss")"
check_wrk cached-gzip
MEMORY_GZ="$(mem)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
latency() { awk '$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } END { printf "p50 %s p99 %s", p50, p99 }' "$TMP/wrk-$1.txt"; }
verdict() { awk -v v="$1" -v min="$2" 'BEGIN { print (v >= min ? "met" : "MISSED") }'; }

R_CACHED="$(ratio "$PF_RPS" "$NGINX_RPS")"
R_304_CACHED="$(ratio "$PF304_RPS" "$PF_RPS")"
R_304_NGINX="$(ratio "$PF304_RPS" "$NGINX_RPS")"

echo
echo "== results ($ITEMS items, $SOURCES sources; body $SIZE bytes; ${WRK[*]}; wrk shares the $(nproc) cores with the server)"
printf '%-34s %12s req/s  %s\n' "nginx static s01.rss" "$NGINX_RPS" "$(latency nginx)"
printf '%-34s %12s req/s  %s\n' "portalfeed cached /feeds/s01.rss" "$PF_RPS" "$(latency cached)"
printf '%-34s %12s req/s  %s\n' "portalfeed 304 (If-None-Match)" "$PF304_RPS" "$(latency not-modified)"
echo "cached / nginx      = $R_CACHED   (target >= 0.50: $(verdict "$R_CACHED" 0.5))"
echo "304 / cached        = $R_304_CACHED   (target >= 1.00: $(verdict "$R_304_CACHED" 1))"
echo "304 / nginx         = $R_304_NGINX"
echo "portalfeed memory after the load: $MEMORY (target VmHWM < 64 MiB: $(awk -v m="$HWM_MIB" 'BEGIN { print (m < 64 ? "met" : "MISSED") }'))"
echo
echo "diagnostic, not a target: Accept-Encoding: gzip"
printf '%-34s %12s req/s  %s\n' "portalfeed cached, gzip" "$PFGZ_RPS" "$(latency cached-gzip)"
echo "cached gzip / nginx = $(ratio "$PFGZ_RPS" "$NGINX_RPS"); memory after: $MEMORY_GZ"
