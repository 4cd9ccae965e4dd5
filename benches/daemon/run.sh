#!/usr/bin/env bash
# Daemon benchmark: `portalfeed run` idle with 20 sources, and one cycle of 1,000 sources over 50
# local hosts.
#
#   bash benches/daemon/run.sh [--no-build] [--keep] [--server nginx|python] [--only idle|cycle]
#                              [--idle-secs 60] [--hosts 50] [--per-host 20] [--items 20]
#                              [--delay-ms 100] [--articles]
#
# Targets (from the issue): idle with 20 sources, RSS under 20 MiB and no CPU used (no busy loop);
# one cycle of 1,000 sources (50 hosts × 20), peak RSS under 64 MiB, and no host asked twice within
# per_host_delay_ms.
#
# Steps:
#  - build the release binary (`cargo build --release --locked`; --no-build skips it);
#  - generate the synthetic VSB portal with benches/e2e/gen_site.py (one list page of ~20 items
#    per source, /col{N}/list.htm, plus the article pages /info/{N}/{M}.htm) in a temp folder under
#    target/, removed on exit unless --keep;
#  - serve it on the loopback addresses 127.0.0.1 … 127.0.0.HOSTS, one port: nginx (one worker,
#    one `listen` per address) or, without nginx, one python3 process with a server thread per
#    address. Both write an access log line per request: end time (s, ms precision), duration,
#    server address, status, request line. robots.txt is absent (404 = everything allowed);
#  - idle: a daemon with 20 sources (5 on each of 127.0.0.1 … 127.0.0.4, every 10 minutes,
#    fetch_articles = true, per_host_delay_ms = DELAY) on a fresh database. Every source is due at
#    start plus its jitter (up to 60 s for a 10-minute schedule). Once /status.json shows all 20
#    polled, wait 2 s, read VmRSS/VmHWM/threads/CPU ticks from /proc, leave it alone IDLE_SECS, read
#    again. The schedule's minutes are chosen so that no tick falls inside the idle window;
#  - cycle: a daemon with HOSTS × PER_HOST sources (fetch_articles = false unless --articles,
#    per_host_delay_ms = DELAY) on a fresh database, under /usr/bin/time -v. The schedule fires
#    once a day at two times one second apart, 12 hours from now (`0,1 0 H * * *`, zone UTC): its
#    shortest interval is 1 s, so the per-source jitter (a tenth of the interval) is at most 0.1 s
#    and every source is due at start; no tick falls within the run. Wait until /status.json shows
#    every source with a last_success, read VmHWM/VmRSS, SIGTERM, and check the access log: per
#    host, the gap between the starts of consecutive requests must be at least DELAY - 5 ms, or the
#    script fails; the gap from the end of one request to the start of the next is shown too.
#
# Prints every figure and a summary table. Exit status 1 when a host was asked twice within
# DELAY - 5 ms (the RSS and CPU targets are reported, not enforced); other errors also exit non-zero.
# Everything stays on loopback; servers and daemons started here are stopped on exit.
set -euo pipefail

BUILD=1
KEEP=0
ONLY=all
IDLE_SECS=60
HOSTS=50
PER_HOST=20
ITEMS=20
DELAY=100
ARTICLES=false
TOLERANCE_MS=5
SERVER=python
command -v nginx >/dev/null 2>&1 && SERVER=nginx
usage="usage: $0 [--no-build] [--keep] [--server nginx|python] [--only idle|cycle] [--idle-secs S] [--hosts K] [--per-host N] [--items M] [--delay-ms D] [--articles]"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --server) SERVER="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --idle-secs) IDLE_SECS="$2"; shift 2 ;;
        --hosts) HOSTS="$2"; shift 2 ;;
        --per-host) PER_HOST="$2"; shift 2 ;;
        --items) ITEMS="$2"; shift 2 ;;
        --delay-ms) DELAY="$2"; shift 2 ;;
        --articles) ARTICLES=true; shift ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
done
if ! [[ "$HOSTS" =~ ^[0-9]+$ ]] || ((HOSTS < 4 || HOSTS > 254)); then
    echo "daemon bench: --hosts must be 4..254" >&2
    exit 2
fi
case "$ONLY" in all | idle | cycle) ;; *) echo "$usage" >&2; exit 2 ;; esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/portalfeed"
HZ="$(getconf CLK_TCK)"
SOURCES=$((HOSTS * PER_HOST))

if [[ ! -x /usr/bin/time ]]; then
    echo "daemon bench: /usr/bin/time is missing (apt-get install -y time)" >&2
    exit 1
fi
if [[ "$BUILD" == 1 ]]; then
    echo "== build (release)"
    (cd "$ROOT" && cargo build --release --locked --quiet)
fi
if [[ ! -x "$BIN" ]]; then
    echo "daemon bench: no binary at $BIN (run without --no-build)" >&2
    exit 1
fi
echo "binary: $BIN ($(date -u -r "$BIN" '+built %Y-%m-%d %H:%M UTC'), commit $(cd "$ROOT" && git rev-parse --short HEAD))"

mkdir -p "$TARGET"
WORK="$(mktemp -d "$TARGET/daemon-bench.XXXXXX")"
SERVER_PID=""
DAEMON_PID=""
cleanup() {
    local pid
    for pid in "$DAEMON_PID" "$SERVER_PID"; do
        [[ -n "$pid" ]] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "$KEEP" == 1 ]]; then
        echo "daemon bench: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- site -------------------------------------------------------------------------------------
echo "== generate $SOURCES list pages × $ITEMS items (and their articles) in $WORK"
python3 "$ROOT/benches/e2e/gen_site.py" "$WORK" --sources "$SOURCES" --items "$ITEMS" >/dev/null
du -sh "$WORK/site" | sed 's/^/site size: /'
# nginx's worker runs as an unprivileged user: let it read the site.
chmod 755 "$WORK"
chmod -R a+rX "$WORK/site"

# --- server -----------------------------------------------------------------------------------
# Access log: `END_S DURATION_S SERVER_ADDR STATUS "REQUEST"`, END_S with millisecond precision.
PORT="$(free_port)"
LOG="$WORK/access.log"
: >"$LOG"
echo "== serve 127.0.0.1 … 127.0.0.$HOSTS on port $PORT ($SERVER)"
if [[ "$SERVER" == nginx ]]; then
    mkdir -p "$WORK/nginx"
    {
        cat <<NGINX
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
    log_format timed '\$msec \$request_time \$server_addr \$status "\$request"';
    access_log $LOG timed;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    default_type text/html;
    sendfile on;
    server {
        root $WORK/site;
NGINX
        for h in $(seq 1 "$HOSTS"); do echo "        listen 127.0.0.$h:$PORT;"; done
        echo "    }"
        echo "}"
    } >"$WORK/nginx/nginx.conf"
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
    SERVER_PID=$!
else
    python3 - "$WORK/site" "$PORT" "$HOSTS" "$LOG" <<'EOF' &
import functools, sys, threading, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
site, port, hosts, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out, lock = open(log, "a", buffering=1), threading.Lock()

class Handler(SimpleHTTPRequestHandler):
    def parse_request(self):
        self.t0 = time.time()  # the request line has just been read
        return super().parse_request()
    def log_request(self, code="-", size="-"):
        self.code = int(code) if str(code).isdigit() else code
    def log_message(self, *args):
        pass
    def handle_one_request(self):
        self.t0 = None
        super().handle_one_request()
        if self.t0 is not None:
            end = time.time()
            with lock:
                out.write(f'{end:.3f} {end - self.t0:.3f} {self.server.server_address[0]} '
                          f'{getattr(self, "code", "-")} "{self.requestline}"\n')

handler = functools.partial(Handler, directory=site)
for h in range(1, hosts + 1):
    srv = ThreadingHTTPServer((f"127.0.0.{h}", port), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
threading.Event().wait()
EOF
    SERVER_PID=$!
fi
for h in 1 "$HOSTS"; do
    ok=0
    for _ in $(seq 1 50); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.$h', $PORT), 0.2)" 2>/dev/null; then
            ok=1
            break
        fi
        sleep 0.1
    done
    if [[ "$ok" != 1 ]]; then
        echo "daemon bench: the server does not answer on 127.0.0.$h:$PORT" >&2
        [[ -f "$WORK/nginx/error.log" ]] && cat "$WORK/nginx/error.log" >&2
        exit 1
    fi
done
python3 - "http://127.0.0.$HOSTS:$PORT/col1/list.htm" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    assert r.status == 200, r.status
EOF
: >"$LOG" # forget the readiness probe

# --- helpers ----------------------------------------------------------------------------------
# Fields of /proc/PID/status, in KiB (VmRSS, VmHWM, RssAnon, RssFile) or as a count (Threads).
status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
# utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Context switches of all the process's threads, voluntary + involuntary (wake-ups).
ctx_switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {n += $2} END {print n + 0}'
}

# Waits until /status.json at $1 lists $2 sources all with a last_success; fails after $3 s.
# Prints the seconds since $4 (an epoch time with fractions) when it saw them all.
wait_all_polled() {
    python3 - "$@" <<'EOF'
import json, sys, time, urllib.request
url, want, limit, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
deadline, last = time.time() + limit, -1
while True:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            sources = json.load(r)["sources"]
        done = sum(1 for s in sources if s.get("last_success"))
        failed = sum(1 for s in sources if s.get("consecutive_failures"))
    except OSError:
        done, failed = -1, 0
    now = time.time()
    if done == want:
        print(f"{now - start:.2f}")
        sys.exit(0)
    if done != last:
        print(f"  {now - start:6.1f} s: {max(done, 0)}/{want} polled, {failed} failing", file=sys.stderr)
        last = done
    if now > deadline:
        print(f"daemon bench: only {done}/{want} sources polled after {limit:.0f} s", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.25)
EOF
}

# Writes a config: $1 file, $2 listen port, $3 schedule, $4 fetch_articles, $5 per-host sources,
# $6 hosts.
write_config() {
    local file="$1" port="$2" schedule="$3" articles="$4" per_host="$5" hosts="$6" h i n=0
    {
        printf '[service]\ndatabase = "%s.db"\nlisten = "127.0.0.1:%s"\npublic_url = "http://127.0.0.1:%s"\ntimezone = "UTC"\n\n' \
            "$(basename "$file" .toml)" "$port" "$port"
        printf '[fetch]\nper_host_delay_ms = %s\n\n' "$DELAY"
        for h in $(seq 1 "$hosts"); do
            for i in $(seq 1 "$per_host"); do
                n=$((n + 1))
                printf '[[source]]\nid = "h%d-c%d"\nlist_url = "http://127.0.0.%d:%s/col%d/list.htm"\nschedule = "%s"\nmax_pages = 1\nfetch_articles = %s\n\n' \
                    "$h" "$n" "$h" "$PORT" "$n" "$schedule" "$articles"
            done
        done
    } >"$file"
}

# Sources with a last_success, and items stored, from a database (python3's sqlite3).
db_counts() {
    python3 - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
st = dict(db.execute("SELECT article_status, COUNT(*) FROM items GROUP BY 1").fetchall())
print(f"{items} items, article_status {st}")
EOF
}

SUMMARY=()
FAILED=0
row() { SUMMARY+=("$(printf '%-52s %-30s %-14s %s' "$1" "$2" "$3" "$4")"); }
met() { if [[ "$1" == 1 ]]; then echo yes; else echo NO; fi; }

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. idle ----------------------------------------------------------------------------------
if [[ "$ONLY" == all || "$ONLY" == idle ]]; then
    # Every 10 minutes, at minutes (now + 5) mod 10 and then every 10: the first tick is 4–5 min
    # away, after the initial polls (≤ 60 s of jitter plus the polls) and the idle window.
    off=$(((10#$(date -u +%M) + 5) % 10))
    schedule="$(seq "$off" 10 59 | paste -sd, -) * * * *"
    dport="$(free_port)"
    cfg="$WORK/idle.toml"
    write_config "$cfg" "$dport" "$schedule" true 5 4
    echo "== idle: 20 sources on 4 hosts, schedule \"$schedule\" (UTC), fetch_articles = true," \
        "per_host_delay_ms = $DELAY, idle window ${IDLE_SECS} s"
    start="$(date +%s.%N)"
    "$BIN" --config "$cfg" run 2>"$WORK/idle.err" &
    DAEMON_PID=$!
    took="$(wait_all_polled "http://127.0.0.1:$dport/status.json" 20 300 "$start")"
    echo "all 20 polled after ${took} s (start + jitter + polls)"
    sleep 2
    rss1="$(status_field "$DAEMON_PID" VmRSS)"
    anon1="$(status_field "$DAEMON_PID" RssAnon)"
    file1="$(status_field "$DAEMON_PID" RssFile)"
    thr1="$(status_field "$DAEMON_PID" Threads)"
    cpu1="$(cpu_ticks "$DAEMON_PID")"
    ctx1="$(ctx_switches "$DAEMON_PID")"
    echo "after the polls: VmRSS $(mib "$rss1") MiB (anon $(mib "$anon1"), file $(mib "$file1")), $thr1 threads, CPU so far $cpu1 ticks"
    t0="$(date +%s.%N)"
    sleep "$IDLE_SECS"
    t1="$(date +%s.%N)"
    rss2="$(status_field "$DAEMON_PID" VmRSS)"
    anon2="$(status_field "$DAEMON_PID" RssAnon)"
    file2="$(status_field "$DAEMON_PID" RssFile)"
    hwm2="$(status_field "$DAEMON_PID" VmHWM)"
    thr2="$(status_field "$DAEMON_PID" Threads)"
    cpu2="$(cpu_ticks "$DAEMON_PID")"
    ctx2="$(ctx_switches "$DAEMON_PID")"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
    idle_ticks=$((cpu2 - cpu1))
    wakeups="$(awk -v n="$((ctx2 - ctx1))" -v s="$secs" 'BEGIN {printf "%.1f", n / s}')"
    echo "after ${secs} s idle: VmRSS $(mib "$rss2") MiB (anon $(mib "$anon2"), file $(mib "$file2")), VmHWM $(mib "$hwm2") MiB, $thr2 threads"
    echo "idle CPU: $idle_ticks ticks (1 tick = $((1000 / HZ)) ms) in ${secs} s; $((ctx2 - ctx1)) context switches ($wakeups/s)"
    echo "ps: $(ps -o pid=,rss=,vsz=,nlwp=,time= -p "$DAEMON_PID")  (pid, RSS KiB, VSZ KiB, threads, CPU time)"
    echo "polls during the window: $(grep -c '"GET /col' "$LOG" || true) list requests in all (want 20)"
    kill -TERM "$DAEMON_PID"
    wait "$DAEMON_PID" || echo "daemon bench: the idle daemon exited with $?" >&2
    DAEMON_PID=""
    echo "stored: $(db_counts "$WORK/idle.db")"
    row "idle: VmRSS after the initial polls" "$(mib "$rss1") MiB" "< 20 MiB" "$(met $((rss1 < 20480)))"
    row "idle: VmRSS after ${secs} s idle" "$(mib "$rss2") MiB" "< 20 MiB" "$(met $((rss2 < 20480)))"
    row "idle: CPU during the idle window" "$idle_ticks ticks ($((idle_ticks * 1000 / HZ)) ms)" "~0" "$(met $((idle_ticks <= 2)))"
    row "idle: context switches during the window" "$((ctx2 - ctx1)) ($wakeups/s)" "-" "-"
    row "idle: threads" "$thr2" "-" "-"
    : >"$LOG"
fi

# --- 2. one cycle -----------------------------------------------------------------------------
if [[ "$ONLY" == all || "$ONLY" == cycle ]]; then
    hour=$(((10#$(date -u +%H) + 12) % 24))
    schedule="0,1 0 $hour * * *"
    dport="$(free_port)"
    cfg="$WORK/cycle.toml"
    write_config "$cfg" "$dport" "$schedule" "$ARTICLES" "$PER_HOST" "$HOSTS"
    echo "== cycle: $SOURCES sources = $HOSTS hosts × $PER_HOST, $ITEMS items each," \
        "fetch_articles = $ARTICLES, per_host_delay_ms = $DELAY, schedule \"$schedule\" (UTC)"
    echo "   load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    start="$(date +%s.%N)"
    /usr/bin/time -v -o "$WORK/cycle.time" "$BIN" --config "$cfg" run 2>"$WORK/cycle.err" &
    DAEMON_PID=$!
    pid=""
    for _ in $(seq 1 100); do
        pid="$(pgrep -P "$DAEMON_PID" || true)"
        [[ -n "$pid" ]] && break
        sleep 0.05
    done
    took="$(wait_all_polled "http://127.0.0.1:$dport/status.json" "$SOURCES" 1800 "$start")"
    hwm="$(status_field "$pid" VmHWM)"
    rss="$(status_field "$pid" VmRSS)"
    thr="$(status_field "$pid" Threads)"
    cpu="$(cpu_ticks "$pid")"
    echo "all $SOURCES polled after ${took} s; VmHWM $(mib "$hwm") MiB, VmRSS $(mib "$rss") MiB, $thr threads, CPU $cpu ticks"
    kill -TERM "$pid"
    wait "$DAEMON_PID" || echo "daemon bench: the cycle daemon exited with $?" >&2
    DAEMON_PID=""
    maxrss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/cycle.time")"
    user="$(sed -n 's/.*User time (seconds): //p' "$WORK/cycle.time")"
    sys="$(sed -n 's/.*System time (seconds): //p' "$WORK/cycle.time")"
    echo "/usr/bin/time: max RSS $(mib "$maxrss") MiB, user ${user} s, sys ${sys} s (to the end of shutdown)"
    echo "stored: $(db_counts "$WORK/cycle.db")"
    failures="$(grep -c 'failures=' "$WORK/cycle.err" || true)"
    echo "backing-off lines in the daemon's log: $failures"
    sleep 0.2 # the server logs after answering
    gaps="$(python3 - "$LOG" "$DELAY" "$TOLERANCE_MS" <<'EOF'
import collections, sys
log, delay, tol = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
by_host, statuses, kinds = collections.defaultdict(list), collections.Counter(), collections.Counter()
for line in open(log):
    end, dur, addr, status, req = line.split(" ", 4)
    end, dur = float(end), float(dur)
    by_host[addr].append((end - dur, end))
    statuses[status] += 1
    path = req.split(" ")[1] if " " in req else req
    kinds["robots" if "robots.txt" in path else "list" if "/list.htm" in path else "article" if "/info/" in path else "other"] += 1
first = min(s for v in by_host.values() for s, _ in v)
last = max(e for v in by_host.values() for _, e in v)
rows, overall_start, overall_idle = [], float("inf"), float("inf")
for addr, reqs in sorted(by_host.items(), key=lambda kv: tuple(int(x) for x in kv[0].split("."))):
    reqs.sort()
    ss = [(b[0] - a[0]) * 1000 for a, b in zip(reqs, reqs[1:])]
    ie = [(b[0] - a[1]) * 1000 for a, b in zip(reqs, reqs[1:])]
    if not ss:
        continue
    rows.append((addr, len(reqs), min(ss), min(ie), reqs[-1][1] - reqs[0][0]))
    overall_start, overall_idle = min(overall_start, min(ss)), min(overall_idle, min(ie))
print("   host          requests  min start→start  min end→start  first→last", file=sys.stderr)
for addr, n, a, b, span in rows:
    print(f"   {addr:<13} {n:>8}  {a:>12.0f} ms  {b:>10.0f} ms  {span:>8.2f} s", file=sys.stderr)
spans = sorted(r[4] for r in rows)
print(f"requests: {sum(statuses.values())} ({dict(kinds)}), statuses {dict(statuses)}; "
      f"server log span {last - first:.2f} s; per-host span median {spans[len(spans)//2]:.2f} s, max {spans[-1]:.2f} s",
      file=sys.stderr)
print(f"{overall_start:.0f} {overall_idle:.0f} {last - first:.2f} {sum(statuses.values())} {len(by_host)}")
EOF
)"
    read -r min_ss min_ie span nreq nhosts <<<"$gaps"
    echo "per-host gaps over $nhosts hosts: min start→start ${min_ss} ms, min end→start ${min_ie} ms (per_host_delay_ms = $DELAY, tolerance $TOLERANCE_MS ms)"
    gap_ok=$((min_ss >= DELAY - TOLERANCE_MS))
    ((gap_ok)) || FAILED=1
    row "cycle: wall, start -> all $SOURCES polled" "${took} s" "-" "-"
    row "cycle: server log, first -> last request" "${span} s, $nreq requests" "-" "-"
    row "cycle: CPU (whole run incl. shutdown)" "user ${user} s + sys ${sys} s" "-" "-"
    row "cycle: peak RSS (VmHWM before SIGTERM)" "$(mib "$hwm") MiB" "< 64 MiB" "$(met $((hwm < 65536)))"
    row "cycle: max RSS (/usr/bin/time -v)" "$(mib "$maxrss") MiB" "< 64 MiB" "$(met $((maxrss < 65536)))"
    row "cycle: min per-host gap start->start" "${min_ss} ms" ">= $DELAY ms" "$(met "$gap_ok")"
    row "cycle: min per-host gap end->start" "${min_ie} ms" "-" "-"
fi

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), server $SERVER, per_host_delay_ms = $DELAY)"
printf '%-52s %-30s %-14s %s\n' "figure" "value" "target" "met"
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
