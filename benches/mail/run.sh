#!/usr/bin/env bash
# Mail benchmark: compose and deliver every digest of 10,000 subscribers to a local SMTP sink.
#
#   bash benches/mail/run.sh [--subscribers N] [--keep] [--no-build]
#
# Target (from the issue): 10,000 active subscribers, 20 new items in 4 sources, choices of sources
# spread over them; `portalfeed digest send --now` composes and delivers every digest at no less
# than 300 mails/s on the 2-core machine, with peak RSS under 128 MiB.
#
# Steps: build in release (the binary and the examples); start `examples/smtp_sink.rs` on a free
# port of 127.0.0.1; write a config in a temp folder under target/ (4 sources with list URLs on the
# discard port, `[email] smtp_url` = the sink, `max_items = 100`); fill its database with
# `examples/fill_subscribers.rs` (baseline polls, N subscribers with a random non-empty subset of
# the sources each, then 5 new items per source with one item listed by two sources); time
# `/usr/bin/time -v portalfeed --config CFG digest send --now`; stop the sink and compare its count
# with what portalfeed composed. Fails unless composed = sent = received = distinct recipients = N.
#
# Everything stays on the loopback interface. The sink and the temp folder are removed on exit
# (--keep keeps the folder); --no-build uses what is already built.
set -euo pipefail

SUBSCRIBERS=10000
KEEP=0
BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --subscribers) SUBSCRIBERS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD=0; shift ;;
        *) echo "usage: $0 [--subscribers N] [--keep] [--no-build]" >&2; exit 2 ;;
    esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/portalfeed"
FILL="$TARGET/release/examples/fill_subscribers"
SINK="$TARGET/release/examples/smtp_sink"

if [[ ! -x /usr/bin/time ]]; then
    echo "mail: /usr/bin/time is missing; installing GNU time"
    sudo -n apt-get install -y time >/dev/null 2>&1 || apt-get install -y time >/dev/null
fi

if [[ "$BUILD" == 1 ]]; then
    echo "== build (release)"
    (cd "$ROOT" && cargo build --release --examples --bins --locked --quiet)
fi
for exe in "$BIN" "$FILL" "$SINK"; do
    if [[ ! -x "$exe" ]]; then
        echo "mail: no executable at $exe (run without --no-build)" >&2
        exit 1
    fi
done
echo "binary: $BIN ($(date -u -r "$BIN" '+built %Y-%m-%d %H:%M UTC'))"

mkdir -p "$TARGET"
WORK="$(mktemp -d "$TARGET/mail-bench.XXXXXX")"
SINK_PID=""
cleanup() {
    if [[ -n "$SINK_PID" ]]; then
        kill "$SINK_PID" 2>/dev/null || true
        wait "$SINK_PID" 2>/dev/null || true
    fi
    if [[ "$KEEP" == 1 ]]; then
        echo "mail: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== SMTP sink"
"$SINK" 0 "$WORK/sink.stats" >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!
PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/sink.out")"
    [[ -n "$PORT" ]] && break
    if ! kill -0 "$SINK_PID" 2>/dev/null; then
        echo "mail: the sink died:" >&2
        cat "$WORK/sink.err" >&2
        exit 1
    fi
    sleep 0.05
done
if [[ -z "$PORT" ]]; then
    echo "mail: the sink did not report its port" >&2
    exit 1
fi
echo "sink: 127.0.0.1:$PORT (pid $SINK_PID)"

CONFIG="$WORK/portalfeed.toml"
cat >"$CONFIG" <<TOML
[service]
database = "mail.db"
listen = "127.0.0.1:18081"
public_url = "http://127.0.0.1:18081/"
timezone = "Asia/Shanghai"

[[source]]
id = "ttxw"
title = "头条新闻"
list_url = "http://127.0.0.1:9/ttxw/list.htm"

[[source]]
id = "tzgg"
title = "通知公告"
list_url = "http://127.0.0.1:9/tzgg/list.htm"

[[source]]
id = "zcwj"
title = "政策文件"
list_url = "http://127.0.0.1:9/zcwj/list.htm"

[[source]]
id = "bmdt"
title = "部门动态"
list_url = "http://127.0.0.1:9/bmdt/list.htm"

[email]
smtp_url = "smtp://127.0.0.1:$PORT"
from = "城中区政务信息订阅 <subscribe@example.gov.cn>"
max_items = 100
secret = "mail-benchmark-secret-0123456789"
TOML

echo "== fill: $SUBSCRIBERS subscribers"
"$FILL" "$CONFIG" "$SUBSCRIBERS"

# CPU ticks (utime + stime) of the sink so far.
sink_ticks() { awk '{print $14 + $15}' "/proc/$SINK_PID/stat" 2>/dev/null || echo 0; }

echo "== load before sending: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average)"
echo "== portalfeed digest send --now"
ticks_before="$(sink_ticks)"
status=0
RUST_LOG=warn /usr/bin/time -v -o "$WORK/time.txt" "$BIN" --config "$CONFIG" digest send --now \
    >"$WORK/send.out" 2>"$WORK/send.err" || status=$?
ticks_after="$(sink_ticks)"
kill -TERM "$SINK_PID"
wait "$SINK_PID" || true
SINK_PID=""

wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")"
rss_kib="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
user="$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")"
sys="$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")"
# m:ss.cc or h:mm:ss to seconds.
secs="$(awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}' <<<"$wall")"
line="$(grep '^digests: ' "$WORK/send.out" || true)"
composed="$(sed -n 's/^digests: \([0-9]*\) composed.*/\1/p' <<<"$line")"
sent="$(sed -n 's/.* \([0-9]*\) sent.*/\1/p' <<<"$line")"
received="$(sed -n 's/^messages //p' "$WORK/sink.out")"
bytes="$(sed -n 's/^bytes //p' "$WORK/sink.out")"
connections="$(sed -n 's/^connections //p' "$WORK/sink.out")"
recipients="$(sed -n 's/^recipients //p' "$WORK/sink.out")"
outbox="$(python3 - "$WORK/mail.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(", ".join(f"{s} {n}" for s, n in db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY 1 ORDER BY 1")))
PY
)"

echo "exit status:     $status"
echo "portalfeed:      ${line:-no report line}"
echo "outbox:          $outbox"
echo "mails composed:  ${composed:-?}"
echo "mails received:  ${received:-?} by the sink (${recipients:-?} distinct recipients," \
    "${connections:-?} connection(s), $(awk -v b="${bytes:-0}" -v n="${received:-0}" 'BEGIN {printf "%.1f MB, %.1f KB a mail", b / 1e6, (n ? b / n / 1e3 : 0)}'))"
echo "wall:            $wall (m:ss) = ${secs} s"
echo "mails/s:         $(awk -v n="${received:-0}" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}') (target ≥ 300)"
echo "peak RSS:        $rss_kib KiB ($(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}') MiB; target < 128 MiB)"
echo "cpu:             portalfeed user ${user}s + sys ${sys}s;" \
    "sink $(awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')s"
echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "$status" != 0 ]]; then
    echo "mail: portalfeed exited with $status; stderr:" >&2
    head -n 20 "$WORK/send.err" >&2
    exit 1
fi
if [[ "$composed" != "$SUBSCRIBERS" || "$sent" != "$SUBSCRIBERS" || "$received" != "$SUBSCRIBERS" ||
    "$recipients" != "$SUBSCRIBERS" ]]; then
    echo "mail: MISMATCH: want $SUBSCRIBERS composed, sent, received and distinct recipients" >&2
    exit 1
fi
echo "mail: OK"
