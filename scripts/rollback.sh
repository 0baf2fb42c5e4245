#!/usr/bin/env bash
# Roll the application back: the same `pulumi up` with the previous weights (needs the stack's
# AWS credentials and Pulumi login). With a canary running (canaryPercent > 0) the canary is
# withdrawn; otherwise all traffic goes back to the other colour, which still runs its previous
# version. ROLLBACK_TO=<file> instead restores exactly a release saved before the deploy
# (`pulumi stack output release --json`). The stack file in the workspace is changed so the up
# applies it, and the stack is tagged `scalemate:rolled-back` with the release it now runs:
# scripts/release-guard.sh then refuses deploys until the repository says the same (commit the
# diff, or a deliberate fix) or someone removes the tag. Notifies the critical topic.
set -euo pipefail
stack=${1:?usage: rollback.sh <stack>}
current=$(pulumi stack output --stack "$stack" release --json)
if [ -n "${ROLLBACK_TO:-}" ]; then
  target=$(jq -c . "$ROLLBACK_TO")
elif [ "$(jq -r .canaryPercent <<<"$current")" -gt 0 ]; then
  target=$(jq -c '.canaryPercent = 0' <<<"$current")
else
  target=$(jq -c '.active = (if .active == "blue" then "green" else "blue" end)' <<<"$current")
fi
to=$(jq -r .active <<<"$target")
[ -n "$(jq -r --arg c "$to" '.[$c] // ""' <<<"$target")" ] || { echo "rollback: $to runs no version; nothing to roll back to" >&2; exit 1; }

set_release() { pulumi config set --stack "$stack" --path "scalemate:app.release.$1" "$2"; }
set_release active "$to"
set_release canaryPercent "$(jq -r .canaryPercent <<<"$target")"
for colour in blue green; do
  version=$(jq -r --arg c "$colour" '.[$c] // ""' <<<"$target")
  if [ -n "$version" ]; then
    set_release "$colour.version" "$version"
  else # exactly the saved release: a colour the failed deploy added runs nothing again
    pulumi config rm --stack "$stack" --path "scalemate:app.release.$colour.version" 2>/dev/null || true
  fi
done
echo "rolling $stack back: $(jq -c . <<<"$current") -> $target"
pulumi preview --stack "$stack" --policy-pack bin/scalemate-security --policy-pack bin/scalemate-cost
pulumi up --stack "$stack" --yes --skip-preview --message "rollback: $target" \
  --policy-pack bin/scalemate-security --policy-pack bin/scalemate-cost
pulumi stack tag set --stack "$stack" scalemate:rolled-back "$target"

topic=$(pulumi stack output --stack "$stack" alertTopicArns --json | jq -r .critical) || topic=""
[ -z "$topic" ] || aws sns publish --topic-arn "$topic" --subject "ScaleMate $stack rolled back" \
  --message "Release of $stack rolled back from $(jq -c . <<<"$current") to $target. ${ROLLBACK_REASON:-Manual rollback.}" >/dev/null ||
  echo "rollback: the notification to $topic failed; the rollback itself succeeded" >&2
echo "rolled back: $stack now serves $to"
