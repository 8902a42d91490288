#!/usr/bin/env bash
# Train with several processes of one machine through torchrun: one per
# GPU, or CPU processes talking through gloo where there is no GPU.
#   bash tools/dist_train.sh CONFIG GPUS [train.py options...]
# NNODES, NODE_RANK, MASTER_ADDR and PORT spread a run over machines;
# PYTHON picks the interpreter (default: python on PATH).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG GPUS [tools/train.py options]" >&2; exit 2
fi
CONFIG=$1; GPUS=$2; shift 2
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
  --nproc_per_node="$GPUS" \
  tools/train.py "$CONFIG" --launcher pytorch "$@"
