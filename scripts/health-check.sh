#!/usr/bin/env bash
# Post-deploy health check of one stack (needs the stack's AWS credentials and Pulumi login):
# the EKS cluster and its node groups are ACTIVE, the database is available, the cache is
# available, the composite "service unhealthy" alarms (the rollback trigger) stay out of
# ALARM for HEALTH_BAKE_SECONDS (default 600), and each Synthetics canary's latest finished run
# passed (the users' view, also for schedules slower than the bake). Exits non-zero with the failing check, which
# makes the pipeline open a rollback issue (docs/rollback.md).
set -euo pipefail
stack=${1:?usage: health-check.sh <stack>}
out() { pulumi stack output --stack "$stack" "$1"; }
fail() { echo "health check failed: $*" >&2; exit 1; }

cluster=$(out clusterName)
[ "$(aws eks describe-cluster --name "$cluster" --query cluster.status --output text)" = ACTIVE ] || fail "EKS cluster $cluster is not ACTIVE"
for ng in $(aws eks list-nodegroups --cluster-name "$cluster" --query 'nodegroups[]' --output text); do
  status=$(aws eks describe-nodegroup --cluster-name "$cluster" --nodegroup-name "$ng" --query nodegroup.status --output text)
  [ "$status" = ACTIVE ] || fail "node group $ng is $status"
done

db=$(out postgresWriterEndpoint)
db_id=${db%%.*}
[ "$(aws rds describe-db-instances --db-instance-identifier "$db_id" --query 'DBInstances[0].DBInstanceStatus' --output text)" = available ] || fail "database $db_id is not available"

cache=$(out redisConfigurationEndpoint)
cache_id=$(echo "$cache" | cut -d. -f2)
[ "$(aws elasticache describe-replication-groups --replication-group-id "$cache_id" --query 'ReplicationGroups[0].Status' --output text)" = available ] || fail "cache $cache_id is not available"

# The rollback trigger: any critical alarm of the stack (database, cache, nodes, application
# errors, CDN 5xx) puts its region's composite alarm in ALARM.
alarms=$(pulumi stack output --stack "$stack" healthAlarms --json)
deadline=$((SECONDS + ${HEALTH_BAKE_SECONDS:-600}))
while :; do
  for name in $(jq -r 'keys[]' <<<"$alarms"); do
    region=$(jq -r --arg n "$name" '.[$n]' <<<"$alarms")
    state=$(aws cloudwatch describe-alarms --region "$region" --alarm-names "$name" --alarm-types CompositeAlarm \
      --query 'CompositeAlarms[0].StateValue' --output text)
    [ "$state" != ALARM ] || fail "composite alarm $name ($region) is in ALARM"
  done
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 30
done

# The users' view: each canary's latest finished run (newest first) reached the public URL.
for canary in $(pulumi stack output --stack "$stack" canaryNames --json 2>/dev/null | jq -r '.[]?'); do
  state=$(aws synthetics get-canary-runs --name "$canary" --max-results 5 \
    --query "CanaryRuns[?Status.State!='RUNNING'] | [0].Status.State" --output text)
  [ "$state" = PASSED ] || fail "canary $canary: its latest run is $state"
done

echo "health check passed: $stack"
