#!/usr/bin/env bash
# test/screenshots/take.sh: refreshes the README's pictures from a running
# `bash start.sh` demo (traffic simulator on):
#   dashboard.png     the dashboard (GET / of the HTTP endpoint) in headless
#                     Chromium, 1280x800, once its script has fetched the data
#   report-page1.png  page 1 of the report start.sh wrote,
#                     reports/troubleshooting-report.pdf (pdftoppm, 100 dpi)
#   TS_HTTP_PORT      the endpoint's port (default: the one in .data's
#                     postgresql.conf, else 3000)
# Fails when the endpoint does not answer or shows no active session.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=test/screenshots
CONF=.data/pgdata/postgresql.conf
PORT=${TS_HTTP_PORT:-$(sed -n "s/^troubleshooting.http_port = //p" "$CONF" 2>/dev/null | tail -1)}
BASE=http://127.0.0.1:${PORT:-3000}

# Prints what the realtime endpoint says about active sessions and the last
# hour, failing when it does not answer 200.
live_figures() {
    curl -sf --noproxy '*' --max-time 10 "$BASE/api/support/troubleshooting/realtime" |
        python3 -c "
import json, sys
m = json.load(sys.stdin)['metrics']
print(m['active_sessions'], m['resolved_last_hour'], m['escalated_last_hour'])"
}

read -r active resolved escalated < <(live_figures) || { echo "no answer from $BASE: is start.sh running?" >&2; exit 1; }
echo "realtime: $active active, $resolved resolved and $escalated escalated in the last hour"
[ "$active" -gt 0 ] || { echo "no active session: is the traffic simulator running (bash start.sh)?" >&2; exit 1; }

prof=$(mktemp -d /tmp/ts-screenshot.XXXXXX)
trap 'rm -rf "$prof"' EXIT
timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --no-proxy-server --user-data-dir="$prof" \
    --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,800 \
    --screenshot="$OUT/dashboard.png" "$BASE/" >/dev/null 2>"$prof/chromium.err" ||
    { cat "$prof/chromium.err" >&2; exit 1; }
echo "$OUT/dashboard.png: $(wc -c < "$OUT/dashboard.png") bytes"

[ -s reports/troubleshooting-report.pdf ] || { echo "no reports/troubleshooting-report.pdf: run bash start.sh" >&2; exit 1; }
pdftoppm -png -f 1 -l 1 -r 100 -singlefile reports/troubleshooting-report.pdf "$OUT/report-page1"
echo "$OUT/report-page1.png: $(wc -c < "$OUT/report-page1.png") bytes"
