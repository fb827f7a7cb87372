#!/usr/bin/env bash
# Installs, from Debian's packages and only when missing, the real programs the tests drive
# (each test that needs one fails, never skips, without it):
#   chromium          the HTML report's browser test (test/report/report-browser.test.ts)
#   prometheus        the metrics integration test (test/metrics/prometheus.test.ts)
#   python3-requests  a port of the Python package's ground-truth client (test/groundtruth)
#   bsdutils          script(1), a terminal for the live view's test
#   util-linux        setpriv(1), run's fallback for ending the child with its parent
# Usage: npm run test:deps   (as root, or with sudo available)
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
{ python3 -c 'import requests' 2>/dev/null || /usr/bin/python3 -c 'import requests' 2>/dev/null; } || need+=(python3-requests)
command -v script >/dev/null 2>&1 || need+=(bsdutils)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
if [ "${#need[@]}" -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "test dependencies: installing ${need[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
