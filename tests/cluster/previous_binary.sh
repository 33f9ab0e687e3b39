#!/usr/bin/env bash
# Builds the Lectern binary of the previous commit (HEAD~1: on main, the
# release before this one) for the rolling-update test, and prints its path.
#
#   tests/cluster/previous_binary.sh [COMMIT]      (default HEAD~1)
#
# The source comes from `git archive` (no worktree to prune). The build gets
# its own target folder, seeded with hard links to this checkout's compiled
# dependencies (target/debug/{deps,build,.fingerprint}), so only the
# workspace's own crates are compiled: third-party crates that did not change
# between the two commits are fresh. Hard links cost no disk, and nothing
# linked is written to: every artifact of the workspace's own crates
# (`lectern*`) is unlinked from the seed first, and a dependency that changed
# gets a new file name (its metadata hash changes). The binary is kept as
# target/prev/lectern-<commit> and reused; the build folder is removed.
#
# A clone without the previous commit (a shallow CI checkout) fails here,
# saying how to fetch it: the rolling-update test is never skipped silently.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_INCREMENTAL=0

rev=${1:-HEAD~1}
# A shallow clone may still reach its origin: ask for one more commit first.
if ! git rev-parse --verify -q "$rev^{commit}" >/dev/null \
  && [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
  git fetch -q --deepen=1 2>/dev/null || true
fi
if ! commit=$(git rev-parse --verify -q "$rev^{commit}"); then
  {
    echo "previous_binary: commit $rev is not in this clone."
    if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
      echo "This is a shallow clone: fetch one more commit with \`git fetch --deepen=1\`"
      echo "(CI: a checkout with fetch-depth 2 or more)."
    fi
    echo "The rolling-update test rolls from that commit's binary and cannot run without it."
  } >&2
  exit 1
fi

main_target=${CARGO_TARGET_DIR:-$root/target}
store=$root/target/prev
out=$store/lectern-${commit:0:12}
if [ -x "$out" ]; then
  echo "previous_binary: reusing $out" >&2
  echo "$out"
  exit 0
fi

start=$(date +%s)
src=$store/src-${commit:0:12}
build=$store/target
rm -rf "$src" "$build"
mkdir -p "$src" "$build/debug"
git archive "$commit" | tar -x -C "$src"

# Seed: hard links to the compiled dependencies, minus the workspace's crates.
seeded=0
if [ -d "$main_target/debug/deps" ]; then
  for d in deps build .fingerprint; do
    [ -d "$main_target/debug/$d" ] && cp -al "$main_target/debug/$d" "$build/debug/$d"
  done
  find "$build/debug/deps" "$build/debug/build" "$build/debug/.fingerprint" -maxdepth 1 \
    \( -name 'lectern*' -o -name 'liblectern*' -o -name 'it-*' \) -exec rm -rf {} +
  seeded=$(find "$build/debug/deps" -maxdepth 1 -name '*.rlib' | wc -l)
fi
echo "previous_binary: building ${commit:0:12} ($seeded compiled dependency files linked in)" >&2

(cd "$src" && CARGO_TARGET_DIR=$build cargo build -q --locked -p lectern --bin lectern) >&2
cp "$build/debug/lectern" "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$src" "$build"
echo "previous_binary: built $out in $(( $(date +%s) - start ))s" >&2
echo "$out"
