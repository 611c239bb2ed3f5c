#!/usr/bin/env bash
# make test-slurm: a sharded sweep on a real Slurm, a one-node cluster started here for the test.
#
# Installs Debian's slurm-wlm and munge when missing; starts its own munged (on a private socket, with
# a key made for it), slurmctld and slurmd, all configured in a temporary folder (free ports, state,
# spool, logs), so nothing in /etc changes and no other cluster or munged on the host is touched;
# submits a small grid with Scripts/slurm/submit.sh (a job array of shards, then a merge step that
# depends on it); waits, with a time limit; checks every job completed and the merged file's keys are
# exactly the unsharded plan's (`run --plan`), in order; then stops exactly the daemons it started
# (by PID, also on failure or Ctrl-C) and removes the folder (kept, with its logs, on failure).
#
# Needs root (packages, daemons) and the release binary (make build). Environment: ATTNBENCH (the
# binary), SHARDS (3), SLURM_TEST_TIMEOUT (seconds to wait for the jobs, 600).
set -euo pipefail
cd "$(dirname "$0")/../.."

ATTNBENCH=$(realpath "${ATTNBENCH:-.build/release/attnbench}")
SHARDS=${SHARDS:-3}
WAIT=${SLURM_TEST_TIMEOUT:-600}
GRID=(--mechanism standard,linformer,linear --n 64...512 --k 32 --batch 1 --heads 2 --head-dim 16 --threads 1
      --mode forward,decode --warmups 1 --min-reps 5 --min-time 0 --max-time 1 --seed 42)

start=$(date +%s)
say() { printf 'test-slurm [%4ds] %s\n' "$(($(date +%s) - start))" "$*"; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: this installs slurm-wlm and munge and starts munged, slurmctld and slurmd"
[ -x "$ATTNBENCH" ] || fail "$ATTNBENCH is not an executable; run make build"

# --- 1. Packages -------------------------------------------------------------------------------
missing=""
for package in slurm-wlm munge; do dpkg -s "$package" > /dev/null 2>&1 || missing="$missing $package"; done
if [ -n "$missing" ]; then
    say "installing$missing (apt-get)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq $missing > /dev/null
fi
say "packages: slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm), munge $(dpkg-query -W -f='${Version}' munge)"

# --- 2. A private cluster in a temporary folder, stopped by PID on any exit ----------------------
tmp=$(mktemp -d /tmp/attnbench-slurm.XXXXXX)
chmod 755 "$tmp"  # munged runs as the munge user and must reach its folder
started=()        # "name pid" of every daemon this script started
jobs=()

stop_daemons() {
    # Newest first: slurmd, slurmctld, then munged. A PID is signalled only while its command line
    # still names this test's folder, so a recycled PID is never touched.
    local i name pid waited
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        read -r name pid <<< "${started[$i]}"
        if ! grep -qa "$tmp" "/proc/$pid/cmdline" 2> /dev/null; then continue; fi
        kill -TERM "$pid" 2> /dev/null || true
        for ((waited = 0; waited < 100; waited++)); do
            grep -qa "$tmp" "/proc/$pid/cmdline" 2> /dev/null || break
            sleep 0.1
        done
        if grep -qa "$tmp" "/proc/$pid/cmdline" 2> /dev/null; then
            kill -KILL "$pid" 2> /dev/null || true
            say "stopped $name (PID $pid) with SIGKILL after 10 s"
        else
            say "stopped $name (PID $pid)"
        fi
    done
}

cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    if [ ${#jobs[@]} -gt 0 ] && [ -n "${SLURM_CONF:-}" ]; then timeout 10 scancel "${jobs[@]}" 2> /dev/null; fi
    stop_daemons
    if [ "$status" -eq 0 ]; then
        rm -rf "$tmp"
    else
        for log in "$tmp"/ctld.log "$tmp"/d.log "$tmp"/munge/munged.log "$tmp"/sweep/logs/*.log; do
            [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 15 "$log"; }
        done
        say "FAILED (exit $status); logs kept in $tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits up to $1 seconds for the file $2 to hold a PID, prints it.
pid_from() {
    local waited
    for ((waited = 0; waited < $1 * 10; waited++)); do
        if [ -s "$2" ]; then cat "$2"; return 0; fi
        sleep 0.1
    done
    return 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# munged: its own socket and key in the folder; it runs as the munge user, as Debian's service does.
install -d -o munge -g munge -m 755 "$tmp/munge"  # the socket's folder must be searchable by all
socket=$tmp/munge/munge.socket
if command -v mungekey > /dev/null 2>&1; then
    su -s /bin/sh munge -c "mungekey --create --keyfile='$tmp/munge/munge.key'"
else  # munge before 0.5.14 has no mungekey: 1 KiB of random bytes, as its create-munge-key made
    head -c 1024 /dev/urandom > "$tmp/munge/munge.key"
    chown munge:munge "$tmp/munge/munge.key"
    chmod 600 "$tmp/munge/munge.key"
fi
su -s /bin/sh munge -c "/usr/sbin/munged --socket='$socket' --key-file='$tmp/munge/munge.key' --pid-file='$tmp/munge/munged.pid' --log-file='$tmp/munge/munged.log' --seed-file='$tmp/munge/munged.seed'"
pid=$(pid_from 10 "$tmp/munge/munged.pid") || fail "munged wrote no PID file"
started+=("munged $pid")
munge -n --socket="$socket" | unmunge --socket="$socket" > /dev/null || fail "munge cannot round-trip a credential"

host=$(hostname -s)
cpus=$(nproc)
memory=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
ctld_port=$(free_port)
d_port=$(free_port)
while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" << CONF
ClusterName=attnbench-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldLogFile=$tmp/ctld.log
SlurmdLogFile=$tmp/d.log
SlurmctldPidFile=$tmp/ctld.pid
SlurmdPidFile=$tmp/d.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=attnbench Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -f "$SLURM_CONF"
pid=$(pid_from 15 "$tmp/ctld.pid") || fail "slurmctld wrote no PID file"
started+=("slurmctld $pid")
slurmd -f "$SLURM_CONF"
pid=$(pid_from 15 "$tmp/d.pid") || fail "slurmd wrote no PID file"
started+=("slurmd $pid")
state=""
for ((waited = 0; waited < 60; waited++)); do
    state=$(timeout 5 sinfo -h -n "$host" -o %T 2> /dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "the node is '$state', not idle, 30 s after starting slurmd"
say "cluster up: munged, slurmctld (port $ctld_port), slurmd (port $d_port) on $host, $cpus CPUs, in $tmp"

# --- 3. A sharded sweep and its merge, as the README submits them --------------------------------
line=$(ATTNBENCH=$ATTNBENCH SWEEP_DIR=$tmp/sweep Scripts/slurm/submit.sh "$SHARDS" "${GRID[@]}")
echo "$line"
array=$(sed -n 's/.*array job \([0-9]*\).*/\1/p' <<< "$line")
merge=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' <<< "$line")
[ -n "$array" ] && [ -n "$merge" ] || fail "could not read the job ids from submit.sh"
jobs=("$array" "$merge")
submitted=$(date +%s)
# submit.sh gives the merge job --kill-on-invalid-dep=yes, so a failed shard empties the queue too.
for ((waited = 0; ; waited += 2)); do
    queued=$(timeout 10 squeue -h -j "$array,$merge" -o %i 2> /dev/null | wc -l)
    [ "$queued" -eq 0 ] && break
    [ "$waited" -ge "$WAIT" ] && fail "jobs still queued or running after $WAIT s: $(timeout 10 squeue -h -j "$array,$merge" -o '%i %T %R' | tr '\n' ';')"
    sleep 2
done
say "array of $SHARDS shards and merge finished in $(($(date +%s) - submitted)) s"

# --- 4. Checks --------------------------------------------------------------------------------------
# One line per job: its id (array_task for the shards) and its state.
states=$(for id in "$array" "$merge"; do timeout 10 scontrol -o show job "$id"; done | awk '{
    id = ""; task = ""; state = ""
    for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "JobId") id = kv[2]; else if (kv[1] == "ArrayJobId") id = kv[2]
        else if (kv[1] == "ArrayTaskId") task = "_" kv[2]; else if (kv[1] == "JobState") state = kv[2]
    }
    print id task, state
}')
echo "$states" | sed 's/^/    job /'
[ "$(grep -c ' COMPLETED$' <<< "$states")" -eq $((SHARDS + 1)) ] || fail "not every job COMPLETED"
merged=$tmp/sweep/merged.csv
[ -f "$merged" ] || fail "no $merged"
"$ATTNBENCH" run "${GRID[@]}" --plan > "$tmp/plan.csv" 2> /dev/null
columns=$(head -n 1 "$tmp/plan.csv" | awk -F, '{print NF}')
cut -d, -f1-"$columns" "$merged" > "$tmp/merged-keys.csv"
diff -u "$tmp/plan.csv" "$tmp/merged-keys.csv" > "$tmp/keys.diff" || { cat "$tmp/keys.diff"; fail "the merged keys differ from the unsharded plan's"; }
for i in $(seq 1 "$SHARDS"); do
    [ -f "$tmp/sweep/shard-$i.csv" ] || fail "no shard-$i.csv"
done
say "merged: $(($(wc -l < "$merged") - 1)) rows = the unsharded plan's $(($(wc -l < "$tmp/plan.csv") - 1)) points, in order; $(grep -c . "$tmp/sweep/merged.samples.csv") sample lines"
grep -h 'sweep.sbatch: shard' "$tmp"/sweep/logs/shard-*.log | sed 's/^/    /'
say "passed; stopping the daemons this test started"
