#!/usr/bin/env bash
# Refuses a deploy that would undo a rollback (needs the stack's Pulumi login): after
# scripts/rollback.sh, the stack is tagged `scalemate:rolled-back` with the release it runs.
# A deploy may go ahead once the committed release (scalemate:app.release of Pulumi.<stack>.yaml)
# is that release (the rollback was committed: the tag is removed), or after someone removes the
# tag on purpose (`pulumi stack tag rm scalemate:rolled-back --stack <stack>`) to ship a fix.
set -euo pipefail
stack=${1:?usage: release-guard.sh <stack>}
marker=$(pulumi stack tag get --stack "$stack" scalemate:rolled-back 2>/dev/null || true)
[ -n "$marker" ] || exit 0
normal() { jq -cS '{active: (.active // "blue"), blue: ((.blue | objects | .version) // .blue // ""), green: ((.green | objects | .version) // .green // ""), canaryPercent: (.canaryPercent // 0)}'; }
committed=$(pulumi config get --stack "$stack" --path scalemate:app.release --json 2>/dev/null | jq -r '.value // "{}"' | normal)
running=$(normal <<<"$marker")
if [ "$committed" = "$running" ]; then
  pulumi stack tag rm --stack "$stack" scalemate:rolled-back
  echo "release guard: the rollback is committed ($running); deploying"
  exit 0
fi
echo "release guard: $stack was rolled back to $running, but the repository says $committed." >&2
echo "Commit the rollback (or a deliberate fix) to Pulumi.$stack.yaml; to ship a fix that differs," >&2
echo "remove the marker first: pulumi stack tag rm --stack $stack scalemate:rolled-back" >&2
exit 1
