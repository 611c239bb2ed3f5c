#!/usr/bin/env bash
# Submits an attnbench sweep to Slurm as a job array of N shards, then a merge step that runs once
# every shard has succeeded (--dependency=afterok; cancelled, not left pending, when a shard fails):
#
#   Scripts/slurm/submit.sh N [attnbench run flags…]
#   Scripts/slurm/submit.sh 8 --preset linformer-table3
#
# Environment:
#   ATTNBENCH     the binary every task runs (default: .build/release/attnbench; `make build` first)
#   SWEEP_DIR     where shard-<i>.csv, merged.csv and logs/ go (default: Results/slurm/<date>-<time>)
#   SBATCH_FLAGS  sbatch flags for both jobs (default: --exclusive, a whole node per shard, so no other
#                 job shares the cores being timed); e.g. SBATCH_FLAGS="--partition=cpu --exclusive"
#
# Prints one line: the array job's id, the merge job's id and SWEEP_DIR. Check progress with
# `squeue -j <ids>`; the result is $SWEEP_DIR/merged.csv (plot, report, check, compare and export read it).
set -euo pipefail

if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 N [attnbench run flags…]   (N shards, N ≥ 1)" >&2
    exit 64
fi
shards=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${ATTNBENCH:-.build/release/attnbench}")
[ -x "$binary" ] || { echo "submit.sh: $binary is not an executable; run make build first" >&2; exit 66; }
dir=${SWEEP_DIR:-Results/slurm/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$dir/logs"
dir=$(realpath "$dir")
read -r -a flags <<< "${SBATCH_FLAGS---exclusive}"
# The jobs get ATTNBENCH and SWEEP_DIR from this environment (--export=ALL), not written into
# --export's list: sbatch splits that list at commas, so a folder named "a,b" would reach the jobs
# as "a" (and "b" as a variable name).
export ATTNBENCH=$binary SWEEP_DIR=$dir

# Check the grid here, once, so a typo fails now and not in N tasks: --plan measures nothing.
"$binary" run "$@" --shard "1/$shards" --plan > /dev/null

array=$(sbatch --parsable --array="0-$((shards - 1))" --output="$dir/logs/shard-%a.log" --export=ALL \
        "${flags[@]}" "$here/sweep.sbatch" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --output="$dir/logs/merge.log" --export=ALL \
        "${flags[@]}" "$here/merge.sbatch")
merge=${merge%%;*}
echo "submit.sh: array job $array ($shards shards), merge job $merge, folder $dir"
