#!/usr/bin/env bash
# Prints the path of a release build of the base commit for make check's time side (compare
# --interleave): the commit given as $1 (make check BASE=<rev>), else the commit that measured the
# committed baseline (Baselines/ci.meta.json's gitCommit). It is built once per commit, with that
# commit's own `make build`, from `git archive` into .build/check/base-<sha>/; later checks reuse it.
# Progress goes to stderr; stdout is the path alone. Exits 1 with one line when the commit is not
# in this clone, or a shallow clone cannot fetch it.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
if [ -z "$rev" ]; then
    rev=$(sed -n 's/^ *"gitCommit" *: *"\([0-9a-f]\{7,40\}\)".*/\1/p' Baselines/ci.meta.json | head -1)
    [ -n "$rev" ] || { echo "base-binary: Baselines/ci.meta.json names no gitCommit; pass BASE=<rev>" >&2; exit 1; }
fi
if ! sha=$(git rev-parse --verify --quiet "$rev^{commit}"); then
    if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
        echo "base-binary: $rev is not in this shallow clone; fetching the history" >&2
        git fetch --quiet --unshallow >&2 || true
    fi
    sha=$(git rev-parse --verify --quiet "$rev^{commit}") || {
        echo "base-binary: the base commit $rev is not in this clone; fetch it (git fetch --unshallow) or pass BASE=<rev>" >&2
        exit 1
    }
fi
dir=.build/check/base-$sha
bin=$dir/.build/release/attnbench
if [ ! -x "$bin" ] || [ ! -f "$dir/.complete" ]; then
    echo "base-binary: building the base, $sha, in $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    git archive "$sha" | tar -x -C "$dir"
    make -C "$dir" build >&2
    touch "$dir/.complete"
fi
echo "$PWD/$bin"
