#!/bin/bash
# Run the browser tests against a bench site, holding that bench's lock ($BENCH.lock) for the run: other
# worktrees repoint apps/nexora_qbo of a shared bench when they run tests, and the web server and worker import
# the app lazily, so they live only inside the lock (each run takes a few minutes).
#
#   [BENCH=/opt/bench] [PORT=8010] [SANDBOX_PORT=<PORT+756>] [SHOTS=/tmp/i10-shots] \
#       browser_tests/run.sh <worktree> <site> [company] [abbr]
#   TEST_FILE=staffing.test.js browser_tests/run.sh ...   (another test script of this folder; default desk.test.js)
#
# BENCH: the bench directory (default /opt/bench; a private copy such as /opt/bench-d10 has its own lock
# /opt/bench-d10.lock and its own job queues, named after its path). PORT: the site's web server
# (`bench serve`). The QBO sandbox listens on SANDBOX_PORT, by default PORT+756 (8010 -> 8766), or the next
# free port above it, so two runs on different PORTs never share a sandbox. Logs: /tmp/browser-<PORT>-*.log.
# It starts a fresh QBO sandbox (`nexora-qbo sandbox`, a new QuickBooks company each run: one QBO company can
# be connected to only one ERPNext company) with the site's redirect URI.
# Needs: `npm i` done in browser_tests, and the site prepared with a company no earlier run used:
#   /opt/bench-run.sh <worktree> --site <site> execute nexora_qbo.erpnext.tests.browser_site.prepare \
#       --kwargs "{'company': '<company>', 'abbr': '<abbr>'}"
set -uo pipefail
WT=$(realpath "$1"); SITE=$2
COMPANY=${3:-_Test NQB Browser}; ABBR=${4:-_TNQB}
BENCH=$(realpath "${BENCH:-/opt/bench}"); PORT=${PORT:-8010}
[ -d "$BENCH/env" ] && [ -d "$BENCH/sites/$SITE" ] || { echo "no bench with site $SITE at $BENCH"; exit 2; }
port_free() { python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$1" 2>/dev/null; }
port_free "$PORT" || { echo "port $PORT is in use (PORT=...)"; exit 2; }
SPORT=${SANDBOX_PORT:-$((PORT + 756))}
for i in $(seq 20); do port_free "$SPORT" && [ "$SPORT" != "$PORT" ] && break; SPORT=$((SPORT + 1)); done
port_free "$SPORT" || { echo "no free sandbox port near $SPORT"; exit 2; }
SANDBOX=http://127.0.0.1:$SPORT
LOG=/tmp/browser-$PORT
BENV=(env -i HOME=/home/frappe USER=frappe PATH=/opt/bench-cli/bin:$BENCH/env/bin:/usr/local/bin:/usr/bin:/bin
	LANG=C.UTF-8 LC_ALL=C.UTF-8 BENCH_DISABLE_UV=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1)
exec 9>>"$BENCH.lock"
flock -w 900 9 || { echo "bench lock $BENCH.lock busy"; exit 3; }
echo "bench $BENCH, site http://$SITE:$PORT, sandbox $SANDBOX, logs $LOG-*.log"
LINK=$BENCH/apps/nexora_qbo
if [ "$(readlink $LINK)" != "$WT" ]; then # as /opt/bench-run.sh does it (then clear the cached meta)
	ln -sfn "$WT" "$LINK.tmp.$$" && mv -Tf "$LINK.tmp.$$" "$LINK" && chown -h frappe:frappe "$LINK"
	echo "$WT" > "$BENCH/.nexora_qbo_target"
	(cd "$BENCH" && runuser -u frappe -- "${BENV[@]}" bench --site "$SITE" clear-cache)
fi
(cd "$WT" && exec python3 -m nexora_qbo.cli sandbox --port "$SPORT" --realms 1 --seed "$RANDOM" \
	--redirect-uri "http://$SITE:$PORT/api/method/nexora_qbo.erpnext.oauth.callback") > "$LOG-sandbox.log" 2>&1 &
SANDBOX_PID=$!
SERVE=; WORKER=
stop() { # what this run started, by id, and their own children (runuser -> bench -> python)
	kill $SERVE $WORKER $SANDBOX_PID 2>/dev/null
	sleep 2
	[ -n "$SERVE" ] && pkill -P "$SERVE" 2>/dev/null; [ -n "$WORKER" ] && pkill -P "$WORKER" 2>/dev/null; true
}
trap stop EXIT
for i in $(seq 30); do grep -q client_secret= "$LOG-sandbox.log" && break; sleep 1; done
CID=$(sed -n 's/.*client_id=\([^ ]*\).*/\1/p' "$LOG-sandbox.log" | head -1)
CSECRET=$(sed -n 's/.*client_secret=\([^ ]*\).*/\1/p' "$LOG-sandbox.log" | head -1)
cd "$BENCH"
runuser -u frappe -- "${BENV[@]}" bench --site "$SITE" serve --port "$PORT" --noreload > "$LOG-serve.log" 2>&1 &
SERVE=$!
# the worker takes this bench's queues only (Frappe names them after the bench's path)
runuser -u frappe -- "${BENV[@]}" bench worker --queue long,default,short > "$LOG-worker.log" 2>&1 &
WORKER=$!
for i in $(seq 60); do curl -sf -o /dev/null "http://$SITE:$PORT/api/method/ping" && break; sleep 1; done
cd "$WT/browser_tests"
BASE="http://$SITE:$PORT" SANDBOX="$SANDBOX" CLIENT_ID="$CID" CLIENT_SECRET="$CSECRET" COMPANY="$COMPANY" ABBR="$ABBR" \
	SHOTS=${SHOTS:-/tmp/i10-shots} timeout 330 node "${TEST_FILE:-desk.test.js}"
exit $?  # the EXIT trap stops the server, worker and sandbox
