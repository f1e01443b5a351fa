#!/usr/bin/env bash
# A sharded study on a real Slurm cluster: starts a single-node cluster on
# localhost (Debian's slurm-wlm and munge, installed if missing), runs the
# scripts of scripts/slurm/ on it, and checks that the merged shards equal one
# `crmsim run` byte for byte. Needs root. Every wait is bounded, and everything
# the script started (munged, slurmctld, slurmd, jobs) is stopped on exit.
# See docs/cluster.md ("Testing on a one-node cluster"). KEEP=1 keeps the
# temporary folder (configuration, daemon logs, job logs) after a pass too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=never

scenario=$root/scenarios/gallium-eu.toml
runs=2000            # 32 blocks of 64 runs: 4 shards of 512, 3 of 640..704
job_wait=90          # seconds one test may wait for its jobs (they take ~10)
tests_limit=180      # seconds all the tests may wait for jobs together

say() { echo "slurm-test: $*"; }
die() {
    echo "slurm-test: FAIL: $*" >&2
    echo "slurm: 0 passed, 1 failed"
    exit 1
}

[[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts daemons)"

# --- packages ---------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || die "apt-get update failed"
    timeout 900 apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
        die "apt-get install slurm-wlm munge failed"
fi
say "$(slurmctld -V), $(munged -V 2>&1 | awk '{print $1; exit}')"

# --- build (before any daemon starts) ----------------------------------------
say "cargo build --release"
cargo build --release --quiet
crmsim=${CARGO_TARGET_DIR:-$root/target}/release/crmsim
[[ -x $crmsim ]] || die "no binary at $crmsim"

work=$(mktemp -d /tmp/crmsim-slurm.XXXXXX)
chmod 755 "$work"
mkdir -p "$work"/{state,spool,run,log}
munged_pid='' slurmctld_pid='' slurmd_pid=''
export SLURM_CONF=$work/slurm.conf

# Stops, by process id, what this script started: jobs first, then slurmd,
# slurmctld and munged; each waited for at most 10 s, then killed.
stop() {
    local pid=$1 name=$2 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    echo "slurm-test: $name ($pid) did not stop in 10 s: killed" >&2
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
cleanup() {
    local rc=$? i jobs
    set +e
    trap - EXIT
    if [[ -n $slurmctld_pid ]] && kill -0 "$slurmctld_pid" 2>/dev/null; then
        jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086 # one id a word
            timeout 10 scancel $jobs
            for ((i = 0; i < 30; i++)); do
                [[ -z $(timeout 5 squeue -h -o %A 2>/dev/null) ]] && break
                sleep 0.5
            done
        fi
    fi
    stop "$slurmd_pid" slurmd
    # Job step daemons outlive slurmd; ours carry our SLURM_CONF.
    for i in $(pgrep -x slurmstepd); do
        grep -qzx "SLURM_CONF=$SLURM_CONF" "/proc/$i/environ" 2>/dev/null || continue
        echo "slurm-test: stopping a slurmstepd left behind ($i)" >&2
        kill -TERM "$i" 2>/dev/null
        sleep 1
        kill -KILL "$i" 2>/dev/null
    done
    stop "$slurmctld_pid" slurmctld
    stop "$munged_pid" munged
    if ((rc == 0)) && [[ -z ${KEEP:-} ]]; then
        rm -rf "$work"
    elif ((rc == 0)); then
        echo "slurm-test: files kept in $work (KEEP is set)"
    else
        for log in "$work"/log/slurmctld.log "$work"/log/slurmd.log "$work"/log/*.out; do
            [[ -f $log ]] || continue
            echo "--- last lines of $log" >&2
            tail -n 15 "$log" >&2
        done
        echo "slurm-test: files kept in $work" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
    local limit=$1 start=$SECONDS
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS - start < limit)) || return 1
        sleep 0.5
    done
}

# --- munge ------------------------------------------------------------------
munge_works() { munge -n </dev/null | unmunge >/dev/null; }
if munge_works 2>/dev/null; then
    say "munged is already running: using it"
else
    key=/etc/munge/munge.key
    install -d -o munge -g munge -m 700 /etc/munge
    if [[ ! -s $key ]]; then
        say "creating $key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$key"
        elif command -v create-munge-key >/dev/null; then
            create-munge-key -f
        else
            dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
        fi
    fi
    chown munge:munge "$key"
    chmod 400 "$key"
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    # Foreground (-F), so that $! is munged itself; as the munge user, which
    # owns the key; --force clears a socket left by a munged that was killed.
    setpriv --reuid=munge --regid=munge --init-groups \
        /usr/sbin/munged --foreground --force </dev/null >"$work/log/munged.log" 2>&1 &
    munged_pid=$!
    wait_for 15 munge_works || {
        cat "$work/log/munged.log" >&2
        die "munged did not answer within 15 s"
    }
    say "munged started ($munged_pid)"
fi

# --- slurm.conf ---------------------------------------------------------------
# Written to the temporary folder and named by SLURM_CONF, which the daemons,
# the client commands and the jobs all read, instead of /etc/slurm/slurm.conf
# (Debian's default place): a machine's own configuration is left alone.
cpus=$(nproc)
avail_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024); exit}' /proc/meminfo)
mem_mb=$((avail_mb / 2))
((mem_mb >= 256)) || die "only $avail_mb MB of memory available"
cat >"$SLURM_CONF" <<EOF
ClusterName=crmsim-ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, no accounting, no MPI: a plain process tree per job.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Schedule often, so that a short test does not wait for the next pass.
SchedulerParameters=sched_interval=2,sched_min_interval=100000,bf_interval=2
MinJobAge=600
MailProg=/bin/true
NodeName=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
cp "$SLURM_CONF" "$work/log/slurm.conf.txt"

# --- slurmctld and slurmd -------------------------------------------------------
# -D: foreground, so that $! is the daemon; -c: start from a clean state.
if timeout 10 scontrol ping >/dev/null 2>&1; then
    die "a slurmctld already answers on localhost's port 6817: stop it first"
fi
slurmctld -D -c -i </dev/null >"$work/log/slurmctld.out" 2>&1 &
slurmctld_pid=$!
ctld_up() { kill -0 "$slurmctld_pid" && timeout 10 scontrol ping; }
wait_for 30 ctld_up || die "slurmctld did not answer within 30 s"
slurmd -D -c -N localhost </dev/null >"$work/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { kill -0 "$slurmd_pid" && [[ $(timeout 10 sinfo -h -n localhost -o %t) == idle ]]; }
if ! wait_for 60 node_idle; then
    kill -0 "$slurmd_pid" 2>/dev/null || die "slurmd stopped (see its log below)"
    scontrol show node localhost >&2 || true
    die "node localhost not idle within 60 s (state: $(sinfo -h -n localhost -o %t 2>&1))"
fi
say "cluster up: $(sinfo -h -o '%P %D node %t %c CPUs')"

# --- the tests ------------------------------------------------------------------
reference=$work/single
"$crmsim" run "$scenario" --runs "$runs" --out "$reference" --quiet

# Same summary.json, timeseries.csv, runs.csv and params.csv as the single run?
same_as_reference() {
    local f
    for f in summary.json timeseries.csv runs.csv params.csv; do
        cmp "$reference/$f" "$1/$f" || return 1
    done
}

# Seconds a test may still wait for jobs: job_wait, less once the tests as a
# whole near tests_limit.
tests_end=$((SECONDS + tests_limit))
wait_left() {
    local left=$((tests_end - SECONDS))
    ((left < job_wait)) || left=$job_wait
    ((left > 0)) || left=1
    echo "$left"
}

# Waits for a job to end (bounded); prints its final state.
job_state() { timeout 10 scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
wait_job() {
    local id=$1 start=$SECONDS limit state
    limit=$(wait_left)
    while :; do
        state=$(job_state "$id")
        case $state in
            PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | "") ;;
            *) echo "$state"; return 0 ;;
        esac
        if ((SECONDS - start >= limit)); then
            echo "job $id still $state after $limit s" >&2
            return 1
        fi
        sleep 0.5
    done
}

# 1. An array job of 4 tasks, one shard each (N from SLURM_ARRAY_TASK_COUNT),
#    waited for with sbatch --wait, then crmsim merge.
test_array() {
    local out=$work/array
    SCENARIO=$scenario OUT=$out RUNS=$runs CRMSIM=$crmsim \
        timeout "$(wait_left)" sbatch --wait --quiet --array=0-3 --time=10 \
        --output="$work/log/array-%A_%a.out" scripts/slurm/study.sbatch
    ls -d "$out"/shards/{0,1,2,3}-of-4 >/dev/null
    "$crmsim" merge "$out"/shards/*-of-4 --out "$out/merged" --quiet
    same_as_reference "$out/merged"
}

# 2. submit.sh: 3 shards of 2 threads each and the dependent merge job.
test_submit() {
    local out=$work/submit submitted merge state
    submitted=$(SCENARIO=$scenario SHARDS=3 THREADS=2 OUT=$out RUNS=$runs CRMSIM=$crmsim \
        timeout 60 scripts/slurm/submit.sh --time=10)
    echo "$submitted"
    merge=$(tail -n 1 <<<"$submitted" | awk '{print $3}')
    state=$(wait_job "$merge")
    [[ $state == COMPLETED ]] || { echo "merge job $merge: $state" >&2; return 1; }
    same_as_reference "$out/results"
}

# 3. A failing shard: the merge job is cancelled, not left pending; merging
#    by hand names the missing runs; re-running the one task mends the study.
test_failed_shard() {
    local out=$work/failed submitted study merge state log
    cat >"$work/flaky-crmsim" <<EOF
#!/usr/bin/env bash
# Fails shard 1 only.
[[ " \$* " == *" --shard 1/4 "* ]] && { echo "flaky-crmsim: shard 1 fails" >&2; exit 3; }
exec "$crmsim" "\$@"
EOF
    chmod +x "$work/flaky-crmsim"
    submitted=$(SCENARIO=$scenario SHARDS=4 OUT=$out RUNS=$runs CRMSIM=$work/flaky-crmsim \
        timeout 60 scripts/slurm/submit.sh --time=10)
    echo "$submitted"
    study=$(head -n 1 <<<"$submitted" | awk '{print $3}')
    merge=$(tail -n 1 <<<"$submitted" | awk '{print $3}')
    state=$(wait_job "$merge")
    [[ $state == CANCELLED ]] || { echo "merge job $merge: $state, not CANCELLED" >&2; return 1; }
    [[ ! -e $out/results ]]
    log=$work/log/failed-merge.txt
    if OUT=$out SHARDS=4 CRMSIM=$crmsim bash scripts/slurm/merge.sbatch >"$log" 2>&1; then
        echo "merge of 3 shards out of 4 succeeded" >&2
        return 1
    fi
    cat "$log"
    grep -q "shard 1 of 4 has no result" "$log"
    grep -q "runs 512..1024 are missing" "$log"
    # The fix: re-run task 1 alone (SHARDS says N), then merge.
    SCENARIO=$scenario SHARDS=4 OUT=$out RUNS=$runs CRMSIM=$crmsim \
        timeout "$(wait_left)" sbatch --wait --quiet --array=1 --time=10 \
        --output="$out/logs/study-rerun-%A_%a.out" scripts/slurm/study.sbatch
    OUT=$out SHARDS=4 CRMSIM=$crmsim bash scripts/slurm/merge.sbatch
    same_as_reference "$out/results"
    echo "(study job $study had failed in task 1 as intended)"
}

passed=0 failed=0
for t in test_array test_submit test_failed_shard; do
    start=$SECONDS
    set +e
    (set -e; "$t") >"$work/log/$t.txt" 2>&1
    rc=$?
    set -e
    if ((rc == 0)); then
        passed=$((passed + 1))
        say "PASS $t ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        say "FAIL $t ($((SECONDS - start)) s); its output:"
        sed 's/^/    /' "$work/log/$t.txt"
    fi
done
echo "slurm: $passed passed, $failed failed"
((failed == 0))
