#!/usr/bin/env bash
# Train on a Slurm cluster: one task per GPU, mmengine reads Slurm's env.
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options...]
# GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK
# (default 5) and SRUN_ARGS tune the allocation.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [tools/train.py options]" >&2
  exit 2
fi
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086
exec srun -p "$PARTITION" --job-name="$JOB_NAME" \
  --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "${PYTHON:-python}" -u tools/train.py "$CONFIG" --launcher slurm "$@"
