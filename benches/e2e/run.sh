#!/usr/bin/env bash
# End-to-end poll benchmark: one `portalfeed poll` of a synthetic local portal.
#
#   bash benches/e2e/run.sh [--sources N] [--items M] [--hosts K] [--server nginx|python] [--keep] [--no-build]
#
# Target (from the issue): 200 sources × 20 items and their article pages, per_host_delay_ms = 0,
# one poll of all of it in under 10 s wall on the 2-core machine, peak RSS under 64 MiB.
#
# Steps: build the release binary; generate the site (benches/e2e/gen_site.py) in a temp folder;
# serve it with nginx (the default when installed: one worker, ETag and Last-Modified, keep-alive)
# or `python3 -m http.server` (ThreadingHTTPServer, HTTP/1.0, Last-Modified but no ETag, and about
# 1.4 ms of CPU a request, which then dominates the figure) on 127.0.0.1; write a config with one [[source]] per list page;
# run `/usr/bin/time -v portalfeed poll` twice (the first poll stores everything, the second finds
# everything unchanged) and print wall time, peak RSS, items stored and the server's status counts.
#
# The default is the issue's setup: one server, so every source is on one host, and portalfeed
# polls one host's sources one request at a time (the politeness rule). `--hosts K` (K ≤ 4 is
# useful: portalfeed polls 4 hosts at once) serves the same folder from K servers on the loopback
# addresses 127.0.0.1 … 127.0.0.K and deals the sources out over them round-robin, to show what
# the per-host serialisation costs. It is a diagnostic, not the issue's figure.
#
# Everything stays on the loopback interface. The servers and the temp folder are removed on exit
# (--keep keeps the folder); --no-build uses the binary already in target/release.
set -euo pipefail

SOURCES=200
ITEMS=20
HOSTS=1
KEEP=0
BUILD=1
SERVER=python
command -v nginx >/dev/null 2>&1 && SERVER=nginx
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sources) SOURCES="$2"; shift 2 ;;
        --items) ITEMS="$2"; shift 2 ;;
        --hosts) HOSTS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --server) SERVER="$2"; shift 2 ;;
        *) echo "usage: $0 [--sources N] [--items M] [--hosts K] [--keep] [--no-build]" >&2; exit 2 ;;
    esac
done
if ! [[ "$HOSTS" =~ ^[0-9]+$ ]] || ((HOSTS < 1 || HOSTS > 254)); then
    echo "e2e: --hosts must be 1..254" >&2
    exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/portalfeed"

if [[ ! -x /usr/bin/time ]]; then
    echo "e2e: /usr/bin/time is missing (apt-get install -y time)" >&2
    exit 1
fi

if [[ "$BUILD" == 1 ]]; then
    echo "== build (release)"
    (cd "$ROOT" && cargo build --release --quiet)
fi
if [[ ! -x "$BIN" ]]; then
    echo "e2e: no binary at $BIN (run without --no-build)" >&2
    exit 1
fi
echo "binary: $BIN ($(date -u -r "$BIN" '+built %Y-%m-%d %H:%M UTC'))"

WORK="$(mktemp -d -t portalfeed-e2e.XXXXXX)"
SERVER_PIDS=()
cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "$KEEP" == 1 ]]; then
        echo "e2e: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== generate ${SOURCES} sources × ${ITEMS} items in $WORK"
python3 "$HERE/gen_site.py" "$WORK" --sources "$SOURCES" --items "$ITEMS"
du -sh "$WORK/site" | sed 's/^/site size: /'
# nginx's worker runs as an unprivileged user: let it read the site.
chmod 755 "$WORK"
chmod -R a+rX "$WORK/site"

echo "== serve"
BASES=()
for h in $(seq 1 "$HOSTS"); do
    addr="127.0.0.$h"
    if [[ "$SERVER" == nginx ]]; then
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        mkdir -p "$WORK/nginx$h"
        cat >"$WORK/nginx$h/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx$h/nginx.pid;
error_log $WORK/nginx$h/error.log;
daemon off;
events { worker_connections 256; }
http {
    log_format plain '"\$request" \$status -';
    access_log $WORK/server$h.log plain;
    client_body_temp_path $WORK/nginx$h; proxy_temp_path $WORK/nginx$h; fastcgi_temp_path $WORK/nginx$h;
    uwsgi_temp_path $WORK/nginx$h; scgi_temp_path $WORK/nginx$h;
    default_type text/html;
    sendfile on;
    server { listen $addr:$port; root $WORK/site; }
}
NGINX
        touch "$WORK/server$h.log"
        nginx -c "$WORK/nginx$h/nginx.conf" -p "$WORK/nginx$h" &
        SERVER_PIDS+=($!)
        for _ in $(seq 1 50); do
            python3 -c "import socket,sys; socket.create_connection(('$addr', $port), 0.2)" 2>/dev/null && break
            sleep 0.1
        done
        BASES+=("http://$addr:$port")
        echo "serving $WORK/site at http://$addr:$port (nginx, pid ${SERVER_PIDS[-1]})"
        continue
    fi
    # Port 0: the kernel picks a free port and the server prints it (-u: unbuffered, so it can be
    # read at once).
    python3 -u -m http.server 0 --bind "$addr" --directory "$WORK/site" \
        >"$WORK/server$h.out" 2>"$WORK/server$h.log" &
    SERVER_PIDS+=($!)
    port=""
    for _ in $(seq 1 100); do
        port="$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$WORK/server$h.out" | head -n 1)"
        [[ -n "$port" ]] && break
        if ! kill -0 "${SERVER_PIDS[-1]}" 2>/dev/null; then
            echo "e2e: the server on $addr died:" >&2
            cat "$WORK/server$h.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        echo "e2e: the server on $addr did not report its port" >&2
        exit 1
    fi
    BASES+=("http://$addr:$port")
    python3 - "http://$addr:$port/col1/list.htm" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    assert r.status == 200, r.status
EOF
    echo "serving $WORK/site at http://$addr:$port (python3 -m http.server, pid ${SERVER_PIDS[-1]})"
done

CONFIG="$WORK/portalfeed.toml"
{
    printf '[service]\ndatabase = "e2e.db"\n\n[fetch]\nper_host_delay_ms = 0\n\n'
    for n in $(seq 1 "$SOURCES"); do
        base="${BASES[$(((n - 1) % HOSTS))]}"
        printf '[[source]]\nid = "col%d"\nlist_url = "%s/col%d/list.htm"\n\n' "$n" "$base" "$n"
    done
} >"$CONFIG"

# Line counts of the servers' access logs, one per server.
log_lines() {
    local h
    for h in $(seq 1 "$HOSTS"); do wc -l <"$WORK/server$h.log"; done
}

# Status counts from the servers' access log lines `"GET /path HTTP/1.1" 200 -`, past the line
# counts given (one per server, as log_lines printed them).
statuses() {
    local h=0 skip
    for skip in "$@"; do
        h=$((h + 1))
        tail -n +"$((skip + 1))" "$WORK/server$h.log"
    done | sed -n 's/.*"GET [^"]*" \([0-9][0-9][0-9]\) .*/\1/p' |
        sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "} END {print ""}'
}

server_cpu() {
    local pid total=0 ticks
    for pid in "${SERVER_PIDS[@]}" $(for p in "${SERVER_PIDS[@]}"; do pgrep -P "$p" || true; done); do
        # utime + stime of a server process (fields 14 and 15 of /proc/PID/stat), in clock ticks;
        # nginx's worker is the master's child.
        ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
        total=$((total + ticks))
    done
    echo "$total"
}

poll() {
    local label="$1"
    local from cpu_before cpu_after
    from="$(log_lines | tr '\n' ' ')"
    cpu_before="$(server_cpu)"
    echo "== $label: portalfeed poll"
    local status=0
    RUST_LOG=warn /usr/bin/time -v -o "$WORK/time.$label" "$BIN" --config "$CONFIG" poll \
        >"$WORK/poll.$label.out" 2>"$WORK/poll.$label.err" || status=$?
    # The servers log after answering; give the last line a moment.
    sleep 0.2
    cpu_after="$(server_cpu)"
    local wall rss_kib user sys
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.$label")"
    rss_kib="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.$label")"
    user="$(sed -n 's/.*User time (seconds): //p' "$WORK/time.$label")"
    sys="$(sed -n 's/.*System time (seconds): //p' "$WORK/time.$label")"
    echo "exit status:   $status"
    echo "wall:          $wall (m:ss)"
    echo "cpu:           portalfeed user ${user}s + sys ${sys}s;" \
        "server(s) $(awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')s"
    echo "peak RSS:      $rss_kib KiB ($(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}') MiB)"
    echo "requests:      $(statuses $from)"
    echo "sources:       $(grep -c ': not modified$' "$WORK/poll.$label.out" || true) not modified," \
        "$(grep -c 'article(s) fetched$' "$WORK/poll.$label.out" || true) polled," \
        "$(grep -c '^portalfeed: poll ' "$WORK/poll.$label.err" || true) failed"
    python3 - "$WORK/e2e.db" "$WORK/expected.json" <<'EOF'
import json, sys, sqlite3
db = sqlite3.connect(sys.argv[1])
want = json.load(open(sys.argv[2]))["items"]
items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
by_status = dict(db.execute("SELECT article_status, COUNT(*) FROM items GROUP BY 1").fetchall())
print(f"items stored:  {items} (want {want}){'' if items == want else '  MISMATCH'}; article_status {by_status}")
EOF
    if [[ "$status" != 0 ]]; then
        echo "first lines of stderr:"
        head -n 5 "$WORK/poll.$label.err"
    fi
}

echo "== load before polling: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average)"
poll first
poll second

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
