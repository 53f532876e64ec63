#!/usr/bin/env bash
# Deploys one image tag on the server, run in the checkout by .github/workflows/deploy.yml over SSH:
#
#   deploy/deploy.sh IMAGE TAG     e.g. deploy/deploy.sh ghcr.io/team/mockup-studio 3f2c1e0...
#
# It pulls the repository and the image, runs the one-shot migration, restarts the services, waits for
# /healthz (the web service's own health check, deploy/healthcheck.py) and prunes. When the new tag does
# not get healthy it starts the tag that ran before again and exits 1 (2 if that fails too). The tag that
# is running and healthy is kept in .deployed-tag beside this checkout's .env. A native worker run by
# launchd (the Mac server, deploy/com.mockupstudio.worker.plist) is restarted on the new code once the
# containers are healthy. This script is given no secret and prints none (no `set -x`).
#
# tests/test_delivery.py runs it over SSH with `docker` and `launchctl` replaced by recording stand-ins.
set -euo pipefail

usage="usage: deploy/deploy.sh IMAGE TAG"
image=${1:?$usage}
tag=${2:?$usage}
cd "$(dirname "$0")/.."

# The code first, then the rest from the updated script (a running bash keeps reading the old file).
if [ -z "${MOCKUP_DEPLOY_PULLED:-}" ]; then
  echo "==> git pull"
  git pull --ff-only --quiet
  MOCKUP_DEPLOY_PULLED=1 exec deploy/deploy.sh "$@"
fi

STATE=.deployed-tag
HEALTH_TIMEOUT_S=${DEPLOY_HEALTH_TIMEOUT_S:-180}
WORKER_LABEL=com.mockupstudio.worker
previous=$(cat "$STATE" 2>/dev/null || true)
# docker-compose.yml names its app image ${MOCKUP_IMAGE}:${MOCKUP_TAG}; the environment wins over .env.
export MOCKUP_IMAGE=$image

healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT_S))
  until docker compose exec -T web python deploy/healthcheck.py >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 2
  done
}

start() {
  export MOCKUP_TAG=$1
  echo "==> docker compose up ($MOCKUP_TAG)"
  docker compose up -d --no-build --remove-orphans
  echo "==> waiting for /healthz (up to ${HEALTH_TIMEOUT_S}s)"
  healthy
}

restart_native_worker() {
  local job
  command -v launchctl >/dev/null || return 0
  job="gui/$(id -u)/$WORKER_LABEL"
  if launchctl print "$job" >/dev/null 2>&1; then
    echo "==> restarting the native worker ($WORKER_LABEL)"
    launchctl kickstart -k "$job"
  fi
}

export MOCKUP_TAG=$tag
echo "==> docker compose pull ($tag)"
docker compose pull --quiet
# Before anything restarts: a migration that fails leaves the running version alone.
echo "==> migrate"
docker compose run --rm migrate

if start "$tag"; then
  echo "$tag" > "$STATE"
  restart_native_worker
  echo "==> docker system prune"
  docker system prune -f
  echo "deployed $tag"
  exit 0
fi

docker compose ps
if [ -z "$previous" ]; then
  echo "deploy failed: $tag did not answer /healthz, and no earlier tag was deployed to go back to" >&2
  exit 1
fi
echo "$tag did not answer /healthz: rolling back to $previous" >&2
if start "$previous"; then
  echo "deploy failed: $tag did not answer /healthz; $previous runs again" >&2
  exit 1
fi
echo "deploy failed: neither $tag nor $previous answers /healthz" >&2
exit 2
