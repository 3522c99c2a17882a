#!/bin/sh
# gha-cache job-started hook: tells the cache service which run this runner has just started, so
# its first cache call can be resolved even when GitHub's workflow_job webhook is late. The
# report is only a hint; the service believes it once GitHub confirms it.
#
# Install: ACTIONS_RUNNER_HOOK_JOB_STARTED=/path/to/job-started-hook.sh in the runner's
# environment, next to CUSTOM_ACTIONS_CACHE_URL=<gha-cache public URL>/r/<runner token>/ (the
# same variable the patched runner gives actions as ACTIONS_CACHE_URL).
# The runner adds GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT.
#
# It never fails the job: any problem is one warning line on stderr, and the exit status is 0.
# The URL holds the runner token, so it is passed to curl on stdin (not in its arguments, which
# other processes can read) and never printed.

# Seconds: the service answers at once, and a job must not wait on a cache hint.
CONNECT_TIMEOUT_SECONDS=3
TOTAL_TIMEOUT_SECONDS=5
REPORT_PATH=runner/job-started

warn() {
  echo "gha-cache job-started hook: $1; the job goes on without the hint" >&2
  exit 0
}

[ -n "${CUSTOM_ACTIONS_CACHE_URL:-}" ] || warn "CUSTOM_ACTIONS_CACHE_URL is not set"
command -v curl >/dev/null 2>&1 || warn "curl is not installed"

# Values go into JSON unquoted or quoted as they are, so only their expected shapes pass.
case "${GITHUB_RUN_ID:-}" in
  '' | *[!0-9]*) warn "GITHUB_RUN_ID is missing or not a number" ;;
esac
attempt="${GITHUB_RUN_ATTEMPT:-1}"
case "$attempt" in
  '' | *[!0-9]*) warn "GITHUB_RUN_ATTEMPT is not a number" ;;
esac
case "${GITHUB_REPOSITORY:-}" in
  */* ) ;;
  * ) warn "GITHUB_REPOSITORY is missing or not owner/name" ;;
esac
case "$GITHUB_REPOSITORY" in
  *[!A-Za-z0-9._/-]*) warn "GITHUB_REPOSITORY has characters a repository name cannot have" ;;
esac

case "$CUSTOM_ACTIONS_CACHE_URL" in
  */) url="$CUSTOM_ACTIONS_CACHE_URL$REPORT_PATH" ;;
  *) url="$CUSTOM_ACTIONS_CACHE_URL/$REPORT_PATH" ;;
esac
body=$(printf '{"repository":"%s","run_id":%s,"run_attempt":%s}' "$GITHUB_REPOSITORY" "$GITHUB_RUN_ID" "$attempt")

# curl's own messages are dropped: the service's status is all the warning needs.
status=$(printf 'url = "%s"\n' "$url" | curl --config - --silent --output /dev/null \
  --write-out '%{http_code}' --connect-timeout "$CONNECT_TIMEOUT_SECONDS" \
  --max-time "$TOTAL_TIMEOUT_SECONDS" --request POST \
  --header 'Content-Type: application/json' --data "$body" 2>/dev/null)
code=$?

[ "$code" -eq 0 ] || warn "the cache service could not be reached (curl exit $code)"
case "$status" in
  2??) exit 0 ;;
  *) warn "the cache service answered HTTP $status" ;;
esac
