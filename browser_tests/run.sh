#!/bin/bash
# Run the browser tests against a bench site, holding the shared bench's lock (/opt/bench.lock) for the run:
# other worktrees repoint apps/nexora_qbo when they run tests, and the web server and worker import the app
# lazily, so they live only inside the lock (each run takes a few minutes).
#
#   browser_tests/run.sh <worktree> <site> [company] [abbr]
#   TEST_FILE=staffing.test.js browser_tests/run.sh ...   (another test script of this folder; default desk.test.js)
#
# It starts a fresh QBO sandbox (`nexora-qbo sandbox`, a new QuickBooks company each run: one QBO company can
# be connected to only one ERPNext company) with the site's redirect URI, on 127.0.0.1:${SANDBOX_PORT:-8766}.
# Needs: `npm i` done in browser_tests, and the site prepared with a company no earlier run used:
#   /opt/bench-run.sh <worktree> --site <site> execute nexora_qbo.erpnext.tests.browser_site.prepare \
#       --kwargs "{'company': '<company>', 'abbr': '<abbr>'}"
set -uo pipefail
WT=$(realpath "$1"); SITE=$2
COMPANY=${3:-_Test NQB Browser}; ABBR=${4:-_TNQB}; PORT=${PORT:-8010}; SPORT=${SANDBOX_PORT:-8766}
SANDBOX=http://127.0.0.1:$SPORT
BENV=(env -i HOME=/home/frappe USER=frappe PATH=/opt/bench-cli/bin:/opt/bench/env/bin:/usr/local/bin:/usr/bin:/bin
	LANG=C.UTF-8 LC_ALL=C.UTF-8 BENCH_DISABLE_UV=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1)
exec 9>>/opt/bench.lock
flock -w 900 9 || { echo "bench lock busy"; exit 3; }
LINK=/opt/bench/apps/nexora_qbo
if [ "$(readlink $LINK)" != "$WT" ]; then # as /opt/bench-run.sh does it (then clear the cached meta)
	ln -sfn "$WT" "$LINK.tmp.$$" && mv -Tf "$LINK.tmp.$$" "$LINK" && chown -h frappe:frappe "$LINK"
	echo "$WT" > /opt/bench/.nexora_qbo_target
	(cd /opt/bench && runuser -u frappe -- "${BENV[@]}" bench --site "$SITE" clear-cache)
fi
(cd "$WT" && exec python3 -m nexora_qbo.cli sandbox --port "$SPORT" --realms 1 --seed "$RANDOM" \
	--redirect-uri "http://$SITE:$PORT/api/method/nexora_qbo.erpnext.oauth.callback") > /tmp/browser-sandbox.log 2>&1 &
SANDBOX_PID=$!
for i in $(seq 30); do grep -q client_secret= /tmp/browser-sandbox.log && break; sleep 1; done
CID=$(sed -n 's/.*client_id=\([^ ]*\).*/\1/p' /tmp/browser-sandbox.log | head -1)
CSECRET=$(sed -n 's/.*client_secret=\([^ ]*\).*/\1/p' /tmp/browser-sandbox.log | head -1)
cd /opt/bench
runuser -u frappe -- "${BENV[@]}" bench --site "$SITE" serve --port "$PORT" --noreload > /tmp/browser-serve.log 2>&1 &
SERVE=$!
runuser -u frappe -- "${BENV[@]}" bench worker --queue long,default,short > /tmp/browser-worker.log 2>&1 &
WORKER=$!
for i in $(seq 60); do curl -sf -o /dev/null "http://$SITE:$PORT/api/method/ping" && break; sleep 1; done
cd "$WT/browser_tests"
BASE="http://$SITE:$PORT" SANDBOX="$SANDBOX" CLIENT_ID="$CID" CLIENT_SECRET="$CSECRET" COMPANY="$COMPANY" ABBR="$ABBR" \
	SHOTS=${SHOTS:-/tmp/i10-shots} timeout 330 node "${TEST_FILE:-desk.test.js}"
RC=$?
kill "$SERVE" "$WORKER" "$SANDBOX_PID" 2>/dev/null
sleep 2
pkill -P "$SERVE" 2>/dev/null; pkill -P "$WORKER" 2>/dev/null # their own children (runuser -> bench -> python)
exit $RC
