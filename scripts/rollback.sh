#!/usr/bin/env bash
# Roll the application back: the same `pulumi up` with the previous weights (needs the stack's
# AWS credentials and Pulumi login). With a canary running (canaryPercent > 0) the canary is
# withdrawn; otherwise all traffic goes back to the other colour, which still runs its previous
# version. ROLLBACK_TO=<file> instead restores a release saved before the deploy
# (`pulumi stack output release --json`). The stack file in the workspace is changed so the
# up applies it; commit that change (the workflow opens a pull request) so that the next deploy
# does not undo the rollback. Notifies the critical topic.
set -euo pipefail
stack=${1:?usage: rollback.sh <stack>}
current=$(pulumi stack output --stack "$stack" release --json)
if [ -n "${ROLLBACK_TO:-}" ]; then
  target=$(cat "$ROLLBACK_TO")
elif [ "$(jq -r .canaryPercent <<<"$current")" -gt 0 ]; then
  target=$(jq '.canaryPercent = 0' <<<"$current")
else
  target=$(jq '.active = (if .active == "blue" then "green" else "blue" end)' <<<"$current")
fi
to=$(jq -r .active <<<"$target")
[ -n "$(jq -r --arg c "$to" '.[$c] // ""' <<<"$target")" ] || { echo "rollback: $to runs no version; nothing to roll back to" >&2; exit 1; }

set_release() { pulumi config set --stack "$stack" --path "scalemate:app.release.$1" "$2"; }
set_release active "$to"
set_release canaryPercent "$(jq -r .canaryPercent <<<"$target")"
for colour in blue green; do
  version=$(jq -r --arg c "$colour" '.[$c] // ""' <<<"$target")
  [ -z "$version" ] || set_release "$colour.version" "$version"
done
echo "rolling $stack back: $(jq -c . <<<"$current") -> $(jq -c . <<<"$target")"
pulumi preview --stack "$stack" --policy-pack bin/scalemate-security --policy-pack bin/scalemate-cost
pulumi up --stack "$stack" --yes --skip-preview --message "rollback: $(jq -c . <<<"$target")" \
  --policy-pack bin/scalemate-security --policy-pack bin/scalemate-cost

topic=$(pulumi stack output --stack "$stack" alertTopicArns --json | jq -r .critical)
aws sns publish --topic-arn "$topic" --subject "ScaleMate $stack rolled back" \
  --message "Release of $stack rolled back from $(jq -c . <<<"$current") to $(jq -c . <<<"$target"). ${ROLLBACK_REASON:-Manual rollback.}" >/dev/null
echo "rolled back: $stack now serves $to"
