"""What the benchmarks share: timing, spread, peak memory, environment
lines and the table row of ``docs/benchmark_cpu.md``."""
import contextlib
import os
import platform
import re
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import mmengine
import mmpretrain
import torch

from ..precision import cpu_name, cpu_supports_bf16

HEADER = ('| Measurement | Mode | Batch | Images/s | Step (ms) | Data time (%) | Ratio '
          '| Peak memory (MB) | Note |')
RULE = '|---' * 2 + '|---:' * 6 + '|---|'


def sync(device):
    """Wait for the work queued on a GPU."""
    if device == 'cuda':
        torch.cuda.synchronize()


def time_calls(fn, iters, warmup=0, device='cpu'):
    """Seconds of each of ``iters`` calls of ``fn`` after ``warmup`` untimed ones."""
    times = []
    for _ in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return times[warmup:]


def spread(times):
    """The median of per-batch times and a note with their p10-p90."""
    deciles = (statistics.quantiles(times, n=10, method='inclusive')
               if len(times) > 1 else times * 9)
    return statistics.median(times), (
        f'median of {len(times)} batches, '
        f'p10-p90 {1000 * deciles[0]:.0f}-{1000 * deciles[-1]:.0f} ms')


@contextlib.contextmanager
def peak_memory(device):
    """Peak MB (``.mb``) inside the block: max allocated on a GPU, else this
    process' resident high-water mark (Linux)."""
    peak = SimpleNamespace(mb=None)
    linux = device != 'cuda' and os.access('/proc/self/clear_refs', os.W_OK)
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    elif linux:
        Path('/proc/self/clear_refs').write_text('5')  # resets VmHWM
    yield peak
    if device == 'cuda':
        peak.mb = torch.cuda.max_memory_allocated() / 2**20
    elif linux:
        status = Path('/proc/self/status').read_text()
        peak.mb = int(re.search(r'VmHWM:\s*(\d+)', status)[1]) / 1024


def environment(device='cpu'):
    """The machine and software the figures come from, one line each."""
    gpu = torch.cuda.get_device_name() if device == 'cuda' else 'none'
    return [
        f'machine: {platform.node()} ({platform.platform()})',
        f'CPU: {cpu_name()}, {os.cpu_count()} logical cores, '
        f'{torch.get_num_threads()} torch threads, native bfloat16: '
        f'{cpu_supports_bf16()}',
        f'GPU: {gpu}',
        f'versions: Python {platform.python_version()}, torch {torch.__version__}, '
        f'mmengine {mmengine.__version__}, mmpretrain {mmpretrain.__version__}',
    ]


def row(what, mode, batch, step=None, data=None, ratio=None, memory=None, note='',
        per_image=False):
    """A row under :data:`HEADER`: ``step`` in s per batch (or image),
    ``data`` its share waiting for data, ``memory`` in MB."""
    def cell(value, fmt, scale=1):
        return '-' if value is None else format(value * scale, fmt)
    speed = None if step is None else (1 if per_image else batch) / step
    cells = [what, mode, batch, cell(speed, '.1f'), cell(step, '.0f', 1000),
             cell(data, '.1f', 100), cell(ratio, '.2f'), cell(memory, '.0f'), note]
    return '| ' + ' | '.join(map(str, cells)) + ' |'
