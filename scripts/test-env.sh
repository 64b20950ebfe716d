#!/usr/bin/env bash
# What the test suites need besides Node and npm, installed or started when this machine allows it:
# - Debian's Chromium for the analyzer's end-to-end tests (playwright cannot download a browser here);
# - a PostgreSQL server for @llm-monitor/driver-postgres (see its README; LLM_MONITOR_PG_SKIP=1 skips those
#   tests visibly where no server can run).
# Run by `npm test` and .ci/run. Never fatal: a test that still lacks its tool says so itself.
set -u
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-env: installing chromium (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "test-env: could not install chromium"
fi
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 && [ -d /etc/postgresql ]; then
  echo "test-env: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || echo "test-env: could not start PostgreSQL"
fi
exit 0
