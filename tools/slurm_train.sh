#!/usr/bin/env bash
# Train on a Slurm cluster: one task per GPU (or per CPU process), mmengine
# reads Slurm's environment.
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options...]
# GPUS (total tasks, default 8), GPUS_PER_NODE (default 8; 0 on CPU-only
# nodes: no GPU is requested and the processes talk through gloo),
# TASKS_PER_NODE (default GPUS_PER_NODE, or GPUS with 0 GPUs per node),
# CPUS_PER_TASK (default 5) and SRUN_ARGS tune the allocation.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [tools/train.py options]" >&2
  exit 2
fi
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=(--gres=gpu:"$GPUS_PER_NODE")
if [ "$GPUS_PER_NODE" = 0 ]; then
  GRES=(); TASKS_PER_NODE=${TASKS_PER_NODE:-$GPUS}
fi
TASKS_PER_NODE=${TASKS_PER_NODE:-$GPUS_PER_NODE}
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086
exec srun -p "$PARTITION" --job-name="$JOB_NAME" \
  "${GRES[@]}" --ntasks="$GPUS" \
  --ntasks-per-node="$TASKS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "${PYTHON:-python}" -u tools/train.py "$CONFIG" --launcher slurm "$@"
