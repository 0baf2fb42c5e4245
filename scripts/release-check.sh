#!/usr/bin/env bash
# Release bake of one stack (needs the stack's AWS credentials and Pulumi login): for
# RELEASE_BAKE_SECONDS (default 600), every colour that takes traffic must keep, in every minute
# with at least RELEASE_MIN_REQUESTS requests (default 100), its load balancer target 5xx rate
# at or below RELEASE_MAX_5XX_PERCENT (default 1) and its p99 target response time at or below
# RELEASE_MAX_P99_SECONDS (default 1.5), over the last 5 minutes. Quieter minutes are not
# judged (one slow request is not a regression). 5xx the load balancer itself returns (no
# target answered) are the composite alarms' (health-check.sh).
#
# Exit 0: passed. Exit 1: a breach, written to $RELEASE_BREACH_FILE (default release-breach.txt)
# for the workflow's automatic rollback. Exit 2: the check itself failed (AWS CLI, outputs):
# no rollback, a person looks.
set -uo pipefail
stack=${1:?usage: release-check.sh <stack>}
max5xx=${RELEASE_MAX_5XX_PERCENT:-1}
maxp99=${RELEASE_MAX_P99_SECONDS:-1.5}
minreq=${RELEASE_MIN_REQUESTS:-100}
breach_file=${RELEASE_BREACH_FILE:-release-breach.txt}
broken() { echo "release check could not run: $*" >&2; exit 2; }
breach() { echo "$*" > "$breach_file"; echo "release check failed: $*" >&2; exit 1; }
out() { pulumi stack output --stack "$stack" "$1" --json || broken "no stack output $1"; }

release=$(out release) || exit 2
lb=$(out loadBalancerArnSuffix | jq -r .) || exit 2
groups=$(out targetGroupArnSuffixes) || exit 2
active=$(jq -r .active <<<"$release")
canary=$(jq -r .canaryPercent <<<"$release")
other=$([ "$active" = blue ] && echo green || echo blue)
if [ -z "$(jq -r --arg c "$active" '.[$c] // ""' <<<"$release")" ]; then
  echo "release check: no colour runs a version (maintenance page); nothing to bake"
  exit 0
fi
colours=("$active")
[ "$canary" -gt 0 ] && colours+=("$other")
[ "$canary" -eq 100 ] && colours=("$other")

# series <stat> <metric> <target group>: "timestamp value" per minute of the last 5 minutes.
series() {
  local stat=$1 name=$2 tg=$3 kind=--statistics
  [[ $stat == p* ]] && kind=--extended-statistics
  aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name "$name" \
    --dimensions Name=LoadBalancer,Value="$lb" Name=TargetGroup,Value="$tg" \
    --start-time "$(date -u -d '-5 min' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" --period 60 \
    "$kind" "$stat" --output json |
    jq -r --arg s "$stat" '.Datapoints[] | "\(.Timestamp) \(.[$s] // .ExtendedStatistics[$s])"' | sort
}

deadline=$((SECONDS + ${RELEASE_BAKE_SECONDS:-600}))
while :; do
  for colour in "${colours[@]}"; do
    for tg in $(jq -r --arg c "$colour" 'to_entries[] | select(.key | endswith("-" + $c)) | .value' <<<"$groups"); do
      requests=$(series Sum RequestCount "$tg") || broken "reading RequestCount of $tg"
      errors=$(series Sum HTTPCode_Target_5XX_Count "$tg") || broken "reading HTTPCode_Target_5XX_Count of $tg"
      p99=$(series p99 TargetResponseTime "$tg") || broken "reading TargetResponseTime of $tg"
      # Per minute: judged only with enough requests.
      verdict=$(join -a 1 -e 0 -o 0,1.2,2.2 <(echo "$requests") <(echo "$errors") | join -a 1 -e 0 -o 0,1.2,1.3,2.2 - <(echo "$p99") |
        awk -v min="$minreq" -v m5="$max5xx" -v mp="$maxp99" '$2 >= min {
          if (100 * $3 / $2 > m5) { printf "at %s %d of %d requests answered 5xx, above %s %%\n", $1, $3, $2, m5; exit }
          if ($4 > mp) { printf "at %s p99 %.2fs, above %ss\n", $1, $4, mp; exit } }')
      [ -z "$verdict" ] || breach "$colour ($tg): $verdict"
    done
  done
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 60
done
echo "release check passed: $stack (${colours[*]})"
