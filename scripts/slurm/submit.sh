#!/usr/bin/env bash
# Submits a sharded crmsim study to Slurm: an array job of SHARDS tasks
# (study.sbatch, one shard each) and a merge job (merge.sbatch) that starts
# only when every task succeeded (--dependency=afterok). See docs/cluster.md.
#
#   SCENARIO=scenarios/gallium-eu.toml SHARDS=16 OUT=/shared/studies/ga \
#     scripts/slurm/submit.sh [sbatch options for both jobs, e.g. --partition=cpu --time=1:00:00]
#
# Environment:
#   SCENARIO  scenario file (required)
#   SHARDS    number of shards = array tasks (required)
#   OUT       study folder on storage every node sees (required); the results
#             go to OUT/results, the shards to OUT/shards, the job logs to OUT/logs
#   CRMSIM    crmsim binary (default: crmsim on PATH), on shared storage too
#   THREADS   CPUs, hence worker threads, per task (default 1)
#   RUNS, SEED  override the scenario's simulation.runs and simulation.seed
#
# Prints the two job ids; the last line is "merge job <id>".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${SCENARIO:?set SCENARIO to the scenario file}"
: "${SHARDS:?set SHARDS to the number of shards (array tasks)}"
: "${OUT:?set OUT to the study folder (on storage shared by all nodes)}"
if ! [[ $SHARDS =~ ^[1-9][0-9]*$ ]]; then
    echo "submit.sh: SHARDS must be a positive whole number, not '$SHARDS'" >&2
    exit 2
fi
THREADS=${THREADS:-1}
CRMSIM=${CRMSIM:-crmsim}

# The jobs may start in another folder: give them absolute paths.
absolute() { [[ $1 == /* ]] && echo "$1" || echo "$PWD/$1"; }
[[ -f $SCENARIO ]] || { echo "submit.sh: no scenario file $SCENARIO" >&2; exit 2; }
SCENARIO=$(absolute "$SCENARIO")
OUT=$(absolute "$OUT")
if [[ $CRMSIM == */* ]]; then
    CRMSIM=$(absolute "$CRMSIM")
else
    CRMSIM=$(command -v "$CRMSIM") || { echo "submit.sh: $CRMSIM is not on PATH; set CRMSIM" >&2; exit 2; }
fi
[[ -x $CRMSIM ]] || { echo "submit.sh: $CRMSIM is not an executable" >&2; exit 2; }
# Fail here, not in every task, when the scenario is wrong.
"$CRMSIM" validate "$SCENARIO" >/dev/null

mkdir -p "$OUT/logs"   # Slurm does not create the folder of --output
export SCENARIO SHARDS OUT CRMSIM THREADS
export RUNS=${RUNS:-} SEED=${SEED:-}

study=$(sbatch --parsable --export=ALL \
    --array="0-$((SHARDS - 1))" --cpus-per-task="$THREADS" \
    --output="$OUT/logs/study-%A_%a.out" "$@" "$here/study.sbatch")
study=${study%%;*}   # "id;cluster" on multi-cluster set-ups
echo "study job $study ($SHARDS tasks)"

# --kill-on-invalid-dep: if a task fails, cancel the merge instead of leaving
# it pending forever (DependencyNeverSatisfied).
merge=$(sbatch --parsable --export=ALL \
    --dependency="afterok:$study" --kill-on-invalid-dep=yes \
    --output="$OUT/logs/merge-%j.out" "$@" "$here/merge.sbatch")
merge=${merge%%;*}
echo "merge job $merge"
