#!/usr/bin/env bash
# Post-deploy health check of one stack (needs the stack's AWS credentials and Pulumi login):
# the EKS cluster and its node groups are ACTIVE, the database is available, the cache is
# available. Exits non-zero with the failing check, which makes the pipeline open a rollback
# issue (docs/rollback.md).
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

echo "health check passed: $stack"
