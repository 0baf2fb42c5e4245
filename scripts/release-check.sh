#!/usr/bin/env bash
# Release bake of one stack (needs the stack's AWS credentials and Pulumi login): for
# RELEASE_BAKE_SECONDS (default 600), every colour that takes traffic must keep its load
# balancer target 5xx rate at or below RELEASE_MAX_5XX_PERCENT (default 1) and its p99 target
# response time at or below RELEASE_MAX_P99_SECONDS (default 1.5), measured per minute over the
# last 5 minutes. Exits non-zero naming the colour and the breach: the deploy workflow then
# rolls back (scripts/rollback.sh). A minute without requests passes.
set -euo pipefail
stack=${1:?usage: release-check.sh <stack>}
max5xx=${RELEASE_MAX_5XX_PERCENT:-1}
maxp99=${RELEASE_MAX_P99_SECONDS:-1.5}
out() { pulumi stack output --stack "$stack" "$1" --json; }
fail() { echo "release check failed: $*" >&2; exit 1; }

release=$(out release)
lb=$(out loadBalancerArnSuffix | jq -r .)
groups=$(out targetGroupArnSuffixes)
active=$(jq -r .active <<<"$release")
canary=$(jq -r .canaryPercent <<<"$release")
other=$([ "$active" = blue ] && echo green || echo blue)
colours=("$active")
[ "$canary" -gt 0 ] && colours+=("$other")
[ "$canary" -eq 100 ] && colours=("$other")
if [ "$(jq -r --arg c "$active" '.[$c] // ""' <<<"$release")" = "" ] && [ "$canary" -eq 0 ]; then
  echo "release check: no colour runs a version (maintenance page); nothing to bake"
  exit 0
fi

# metric <stat-or-extended> <metric> <target group>: the worst per-minute value of the window.
metric() {
  local stat=$1 name=$2 tg=$3 kind=--statistics
  [[ $stat == p* ]] && kind=--extended-statistics
  aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name "$name" \
    --dimensions Name=LoadBalancer,Value="$lb" Name=TargetGroup,Value="$tg" \
    --start-time "$(date -u -d '-5 min' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" --period 60 \
    "$kind" "$stat" --output json | jq -r --arg s "$stat" '[.Datapoints[] | (.[$s] // .ExtendedStatistics[$s])] | max // 0'
}

deadline=$((SECONDS + ${RELEASE_BAKE_SECONDS:-600}))
while :; do
  for colour in "${colours[@]}"; do
    for tg in $(jq -r --arg c "$colour" 'to_entries[] | select(.key | endswith("-" + $c)) | .value' <<<"$groups"); do
      requests=$(metric Sum RequestCount "$tg")
      errors=$(metric Sum HTTPCode_Target_5XX_Count "$tg")
      p99=$(metric p99 TargetResponseTime "$tg")
      if awk -v e="$errors" -v r="$requests" -v m="$max5xx" 'BEGIN { exit !(r > 0 && 100 * e / r > m) }'; then
        fail "$colour ($tg): target 5xx $errors of $requests requests, above $max5xx %"
      fi
      if awk -v p="$p99" -v m="$maxp99" 'BEGIN { exit !(p > m) }'; then
        fail "$colour ($tg): p99 response time ${p99}s, above ${maxp99}s"
      fi
    done
  done
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 60
done
echo "release check passed: $stack (${colours[*]})"
