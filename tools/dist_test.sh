#!/usr/bin/env bash
# Evaluate a checkpoint with several processes of one machine through
# torchrun (one per GPU, or CPU processes with gloo).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options...]
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT GPUS [tools/test.py options]" >&2; exit 2
fi
CONFIG=$1; CHECKPOINT=$2; GPUS=$3; shift 3
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
  --nproc_per_node="$GPUS" \
  tools/test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
