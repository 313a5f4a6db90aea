#!/usr/bin/env bash
# starters.sh [LAB]: snapshot each lab's starter code, labs/<id>/*.go
# without its tests, into checker/labs/<id>/starter.txtar: what `delab
# reset` restores and what the proofs grade as the untouched starter.
# LAB (an id or its start, e.g. kafka/03) does one lab. `make starters`
# runs it.
#
# labs/ is also where the course is solved: a lab whose files differ from
# its committed starter.txtar may hold someone's solution, which would
# become every learner's starter. Such a lab is left alone, and the script
# fails, unless FORCE=1 says the new starter is meant.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/../.."

only=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
new=$tmp/new
base=$tmp/base
refused=()
found=0
for d in checker/labs/*/*/; do
  id=${d#checker/labs/}
  id=${id%/}
  [ -d "labs/$id" ] || continue
  if [ -n "$only" ] && [[ $id != "$only"* ]]; then
    continue
  fi
  found=$((found + 1))
  out=checker/labs/$id/starter.txtar
  : >"$new"
  for f in labs/"$id"/*.go; do
    case $f in *_test.go) continue ;; esac
    printf -- '-- %s --\n' "$(basename "$f")" >>"$new"
    cat "$f" >>"$new"
  done
  # The starter to compare with: the committed one, else (no git, or a
  # file not committed yet) the one on disk, else none (a new lab).
  if git cat-file -e "HEAD:$out" 2>/dev/null; then
    git show "HEAD:$out" >"$base"
  elif [ -f "$out" ]; then
    cp "$out" "$base"
  else
    cp "$new" "$base"
  fi
  if ! cmp -s "$new" "$base" && [ "${FORCE:-}" != 1 ]; then
    refused+=("$id")
    continue
  fi
  if cmp -s "$new" "$out" 2>/dev/null; then
    echo "unchanged $out"
  else
    cp "$new" "$out"
    echo "wrote $out"
  fi
done

if [ "$found" = 0 ]; then
  echo "no lab matches LAB=$only (give an id such as kafka/03-reliable-producer, or its start: kafka/03)" >&2
  exit 2
fi
if [ ${#refused[@]} -gt 0 ]; then
  echo >&2
  for id in "${refused[@]}"; do
    echo "left checker/labs/$id/starter.txtar alone: labs/$id differs from the committed starter" >&2
  done
  echo "Those files would become the starter every learner gets (and delab reset restores)." >&2
  echo "If that is what you mean, run: make starters LAB=<id> FORCE=1 (or FORCE=1 for all)." >&2
  exit 1
fi
