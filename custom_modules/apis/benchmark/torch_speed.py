"""Training, evaluation and inference speed, bare PyTorch against our tools,
side by side in one table (``tools/analysis/benchmark.py``).

*Bare* is the same mmpretrain model (frozen stages included) stepped by hand
on in-memory tensors: ``model(x, mode='tensor')``, cross-entropy, the
config's Adam settings and gradient accumulation, ``torch.autocast``.
*Ours* is what a user runs: ``tools/train.py``'s config building and
mmengine's Runner on JPEG files through the config's pipeline and default
dataloader workers, ``tools/test.py``'s loop and the inference tool. Times
are means over ``--iters`` iterations after ``--warmup`` ones; the first
iterations (worker start-up, oneDNN kernel choice) are left out.
"""
import argparse
import contextlib
import os
import os.path as osp
import platform
import statistics
import tempfile
import threading
import time
import uuid

from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new

from ..config import ROOT, load_config

MODES = {  # name: (amp, channels_last)
    'fp32': (False, False),
    'channels_last': (False, True),
    'amp': (True, False),
    'amp+channels_last': (True, True),
}
DEFAULT_CONFIG = 'configs/resnet101_freeze2_fixed.py'
PHOTOS = osp.join(ROOT, '..', 'shared', 'datasets', 'flower_dataset')
SMOKE = dict(config=osp.join(ROOT, 'tests/data/configs/'
                             'resnet18_freeze2_fixed.py'),
             batch=4, size=32, iters=1, warmup=1, eval_iters=2,
             batch_sizes=[4], frozen=[2], epoch_max_images=16, workers=0,
             modes=['fp32', 'amp+channels_last'])
PARTS = ('train', 'eval', 'frozen', 'batch', 'epoch')
HEADER = ('| Measurement | Mode | Batch | Images/s | Step (ms) | Data time '
          '(%) | Ratio | Peak memory (MB) | Note |')
RULE = '|---' * 2 + '|---:' * 6 + '|---|'


# --------------------------------------------------------------- utilities
class PeakMemory:
    """Peak memory inside a ``with`` block: max allocated on a GPU, else
    the resident set of this process (dataloader workers not included),
    sampled every 5 ms."""

    def __init__(self, device):
        self.device, self.mb = device, None

    @staticmethod
    def _rss():
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def _sample(self):
        while not self._stop.wait(0.005):
            self._peak = max(self._peak, self._rss())

    def __enter__(self):
        import torch
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        elif osp.exists('/proc/self/statm'):
            self._peak, self._stop = self._rss(), threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        import torch
        if self.device == 'cuda':
            self.mb = torch.cuda.max_memory_allocated() / 2**20
        elif hasattr(self, '_thread'):
            self._stop.set()
            self._thread.join()
            self.mb = max(self._peak, self._rss()) / 2**20


def sync(device):
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()


def environment(args, device):
    """The machine and software the figures come from."""
    import mmengine
    import mmpretrain
    import torch

    from ..precision import cpu_name, cpu_supports_bf16
    cpu = cpu_name()
    gpu = (torch.cuda.get_device_name() if device == 'cuda' else 'none')
    return [
        f'machine: {platform.node()} ({platform.platform()})',
        f'CPU: {cpu}, {os.cpu_count()} logical cores, {torch.get_num_threads()}'
        f' torch threads, native bfloat16: {cpu_supports_bf16()}',
        f'GPU: {gpu}',
        f'versions: Python {platform.python_version()}, torch '
        f'{torch.__version__}, mmengine {mmengine.__version__}, mmpretrain '
        f'{mmpretrain.__version__}',
        f'device: {device}; config: {osp.relpath(args.config, ROOT)}; '
        f'batch {args.batch}; resolution {args.size} px; {args.iters} timed '
        f'iterations ({args.eval_iters} batches in eval rows) after '
        f'{args.warmup} warm-up ones',
    ]


def set_resolution(cfg, size):
    """Train crops of ``size`` px, test images resized and centre-cropped
    to ``size`` (the configs' 256 -> 224 ratio)."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for step in (cfg.get(key) or {}).get('dataset', {}).get(
                'pipeline', []):
            if step['type'] == 'RandomResizedCrop':
                step['scale'] = size
            elif step['type'] == 'ResizeEdge':
                step['scale'] = size * 256 // 224
            elif step['type'] == 'CenterCrop':
                step['crop_size'] = size


def amp_refusal(device):
    """Why --amp cannot run here, or None."""
    from ..precision import amp_dtype
    try:
        amp_dtype(None, device)
    except UserInputError as error:
        return str(error)
    return None


# -------------------------------------------------------------------- bare
def build_model(cfg, device, frozen_stages=None):
    import torch
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    model_cfg = cfg.model.copy()
    model_cfg['backbone'] = dict(model_cfg['backbone'], init_cfg=None)
    if frozen_stages is not None:
        model_cfg['backbone']['frozen_stages'] = frozen_stages
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    return model.to(torch.device(device))


def autocast(amp, device):
    import torch
    if not amp:
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=torch.float16 if device == 'cuda'
                          else torch.bfloat16)


def bare_train(cfg, mode, batch, size, iters, warmup, device,
               frozen_stages=None):
    """Seconds per training step of the model stepped by hand."""
    import torch
    import torch.nn.functional as F
    amp, channels_last = MODES[mode]
    model = build_model(cfg, device, frozen_stages).train()
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, cfg.model.head.num_classes, (batch, ), device=device)
    opt_cfg = dict(cfg.optim_wrapper.optimizer)
    optimizer = getattr(torch.optim, opt_cfg.pop('type'))(
        [p for p in model.parameters() if p.requires_grad], **opt_cfg)
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    scaler = torch.amp.GradScaler('cuda', enabled=amp and device == 'cuda')
    times = []
    for i in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        with autocast(amp, device):
            loss = F.cross_entropy(model(x, mode='tensor'), y) / accumulate
        scaler.scale(loss).backward()
        if (i + 1) % accumulate == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
        sync(device)
        times.append(time.perf_counter() - start)
    return sum(times[warmup:]) / iters


def bare_eval(cfg, mode, batch, size, iters, warmup, device):
    """Seconds of each of ``iters`` batches of ``model(x)`` in eval mode,
    without gradients (after ``warmup`` untimed ones)."""
    import torch
    amp, channels_last = MODES[mode]
    model = build_model(cfg, device).eval()
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    times = []
    with torch.no_grad():
        for _ in range(warmup + iters):
            sync(device)
            start = time.perf_counter()
            with autocast(amp, device):
                model(x, mode='tensor')
            sync(device)
            times.append(time.perf_counter() - start)
    return times[warmup:]


# -------------------------------------------------------------------- ours
def _speed_flags(mode):
    amp, channels_last = MODES[mode]
    return ['--amp'] * amp + ['--channels-last'] * channels_last


def _quiet(cfg):
    cfg.log_level = 'WARNING'
    cfg.experiment_name = f'benchmark_{uuid.uuid4().hex[:8]}'
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)


def _history(runner, key, skip):
    values = runner.message_hub.get_scalar(key).data[0]
    return list(values[skip:])


def ours_train(args, mode, work_dir, images, hook=None):
    """(seconds per step, data time share, number of steps) of
    tools/train.py's Runner on the first ``images`` training images;
    ``hook`` (an mmengine Hook) is added to the Runner."""
    from mmengine.runner import Runner

    from .. import training
    cfg = training.build_train_config(training.parse_args([
        args.config, '--from-scratch', '--no-validate', '--data-root',
        args.data_root, '--work-dir', work_dir, *_speed_flags(mode)]))
    set_resolution(cfg, args.size)
    cfg.train_dataloader.batch_size = args.batch
    cfg.train_dataloader.dataset.indices = images
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = None  # constant lr: a one-epoch schedule is moot
    set_workers(cfg, args.workers)
    cfg.default_hooks.checkpoint = None
    _quiet(cfg)
    runner = Runner.from_cfg(cfg)
    if hook is not None:
        runner.register_hook(hook, 'VERY_HIGH')
    runner.train()
    skip = max(0, min(args.warmup, images // args.batch - 1))
    times = _history(runner, 'train/time', skip)
    data = _history(runner, 'train/data_time', skip)
    return sum(times) / len(times), sum(data) / sum(times), len(times) + skip


def set_workers(cfg, workers):
    """``--workers``: dataloader processes (default: the config's)."""
    if workers is None:
        return
    for key in ('train_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(num_workers=workers,
                            persistent_workers=workers > 0)


def save_checkpoint(cfg, data_root, device, path):
    """The model's weights as a checkpoint test.py and infer.py load."""
    import torch
    model = build_model(cfg, device)
    with open(osp.join(data_root, 'classes.txt')) as f:
        classes = [line.strip() for line in f if line.strip()]
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': classes}}}, path)


def ours_test(args, mode, checkpoint, work_dir, batches):
    """Seconds of each of ``batches`` batches of tools/test.py's loop (data
    waiting included), after ``--warmup`` untimed ones."""
    from mmengine.runner import Runner

    from .. import testing
    cfg = testing.build_test_config(testing.parse_args([
        args.config, checkpoint, '--data-root', args.data_root,
        '--work-dir', work_dir, *_speed_flags(mode)]))
    set_resolution(cfg, args.size)
    cfg.test_dataloader.batch_size = args.batch
    cfg.test_dataloader.dataset.indices = args.batch * (args.warmup + batches)
    set_workers(cfg, args.workers)
    _quiet(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()
    return _history(runner, 'test/time', args.warmup)


def ours_infer(args, mode, checkpoint, paths, device):
    """Seconds per image of the inference tool (decoding included)."""
    from ..inference import build_inferencer, predict
    amp, channels_last = MODES[mode]
    pipeline = resized_test_pipeline(args)
    inferencer = build_inferencer(
        args.config, checkpoint, device, amp=amp, channels_last=channels_last,
        cfg_options={'test_dataloader.dataset.pipeline': pipeline})
    warm = args.batch * args.warmup
    predict(inferencer, paths[:warm], batch_size=args.batch)
    sync(device)
    start = time.perf_counter()
    predict(inferencer, paths[warm:], batch_size=args.batch)
    sync(device)
    elapsed = time.perf_counter() - start
    print(flush=True)  # after mmpretrain's progress bar
    return elapsed / len(paths[warm:])


def resized_test_pipeline(args):
    cfg = load_config(args.config)
    set_resolution(cfg, args.size)
    return cfg.test_dataloader.dataset.pipeline


# ------------------------------------------------------------------ report
def row(what, mode, batch, step=None, data=None, ratio=None, memory=None,
        note='', per_image=False):
    """A table row; ``step`` is seconds per batch (or per image)."""
    def f(value, fmt):
        return '-' if value is None else format(value, fmt)
    speed = None if step is None else (1 if per_image else batch) / step
    return (f'| {what} | {mode} | {batch} | {f(speed, ".1f")} | '
            f'{f(None if step is None else step * 1000, ".0f")} | '
            f'{f(None if data is None else 100 * data, ".1f")} | '
            f'{f(ratio, ".2f")} | {f(memory, ".0f")} | {note} |')


def measure(args, device, work_root):
    """Every row of the table, printing each as it is measured."""
    cfg = load_config(args.config)
    rows = []

    def emit(line):
        rows.append(line)
        print(line, flush=True)

    print(f'{HEADER}\n{RULE}', flush=True)
    refusal = amp_refusal(device)
    modes = [m for m in args.modes if not (MODES[m][0] and refusal)]
    if 'fp32' not in modes:
        modes.insert(0, 'fp32')  # the reference of every ratio
    for name in args.modes:
        if name not in modes:
            emit(row('training step', name, args.batch,
                     note=f'skipped: {refusal}'))
    steps = args.batch * (args.warmup + args.iters)
    bare = {}
    for mode in modes if 'train' in args.parts else ():
        with PeakMemory(device) as mem:
            bare[mode] = bare_train(cfg, mode, args.batch, args.size,
                                    args.iters, args.warmup, device)
        emit(row('bare training step', mode, args.batch, bare[mode],
                 ratio=bare['fp32'] / bare[mode], memory=mem.mb,
                 note='ratio: speed-up over bare fp32'))
    for mode in modes if 'train' in args.parts else ():
        with PeakMemory(device) as mem:
            step, data, _ = ours_train(
                args, mode, osp.join(work_root, f'train_{mode}'), steps)
        emit(row('ours: train.py Runner, JPEGs', mode, args.batch, step,
                 data, bare[mode] / step, mem.mb,
                 'ratio: ours / bare speed, same mode'))

    checkpoint = osp.join(work_root, 'weights.pth')
    save_checkpoint(cfg, args.data_root, device, checkpoint)
    paths = val_images(args.data_root, steps)
    for mode in modes if 'eval' in args.parts else ():
        emit_eval(args, cfg, mode, device, checkpoint, paths,
                  osp.join(work_root, f'test_{mode}'), emit)

    fastest = modes[-1]
    for frozen in args.frozen if 'frozen' in args.parts else ():
        for mode in dict.fromkeys(('fp32', fastest)):
            step = bare_train(cfg, mode, args.batch, args.size, args.iters,
                              args.warmup, device, frozen)
            emit(row(f'bare step, frozen_stages={frozen}', mode, args.batch,
                     step))
    for batch in args.batch_sizes if 'batch' in args.parts else ():
        for mode in dict.fromkeys(('fp32', fastest)):
            with PeakMemory(device) as mem:
                step = bare_train(cfg, mode, batch, args.size, args.iters,
                                  args.warmup, device)
            emit(row('bare step, batch size', mode, batch, step,
                     memory=mem.mb))
    if 'epoch' in args.parts:
        emit_epochs(args, fastest, device, work_root, emit)
    return rows


def spread(times):
    """Median and 10th-90th percentile of per-batch times: robust to the
    odd batch another process on the machine slowed down."""
    deciles = (statistics.quantiles(times, n=10, method='inclusive')
               if len(times) > 1 else times * 9)
    low, high = deciles[0], deciles[-1]
    return statistics.median(times), (f'median of {len(times)} batches, '
                                      f'p10-p90 {1000 * low:.0f}-'
                                      f'{1000 * high:.0f} ms')


def emit_eval(args, cfg, mode, device, checkpoint, paths, work_dir, emit):
    """The eval rows of one mode: bare ``model(x)`` timed in two halves,
    before and after test.py's loop, so a change in the machine's load
    during the measurement reaches both sides."""
    half = max(1, args.eval_iters // 2)
    with PeakMemory(device) as bare_mem:
        bare = bare_eval(cfg, mode, args.batch, args.size, half,
                         args.warmup, device)
    with PeakMemory(device) as mem:
        ours = ours_test(args, mode, checkpoint, work_dir, args.eval_iters)
    bare += bare_eval(cfg, mode, args.batch, args.size,
                      max(1, args.eval_iters - half), args.warmup, device)
    base, base_note = spread(bare)
    step, note = spread(ours)
    emit(row('bare eval: model(x)', mode, args.batch, base,
             memory=bare_mem.mb, note=base_note))
    emit(row('ours: test.py loop', mode, args.batch, step,
             ratio=base / step, memory=mem.mb,
             note=f'{note}; ratio: ours / bare eval speed (medians)'))
    with PeakMemory(device) as mem:
        per_image = ours_infer(args, mode, checkpoint, paths, device)
    emit(row('ours: infer.py', mode, args.batch, per_image,
             ratio=(base / args.batch) / per_image, memory=mem.mb,
             note='step = per image; decodes in-process, no workers',
             per_image=True))


def epoch_sizes(total, fractions, cap, batch):
    """Images in each timed epoch: the first ``fraction`` of the training
    split (of its first ``cap`` images with ``--epoch-max-images``), in
    whole batches, so no smaller last batch makes oneDNN choose its
    kernels again."""
    base = min(total, cap) if cap else total
    return [max(1, int(f * base) // batch) * batch for f in fractions]


def epoch_header(args, total):
    """What the epoch rows measured, for the table's header."""
    base = (f'the first {min(total, args.epoch_max_images)} of the {total} '
            'training images (--epoch-max-images)'
            if args.epoch_max_images and args.epoch_max_images < total
            else f'the {total} training images of train.txt')
    return (f'epoch rows: one real epoch of tools/train.py\'s Runner (no '
            f'validation) over {", ".join(f"{f:.0%}" for f in args.epoch_fractions)} '
            f'of {base}, in whole batches; the epoch is timed from its first '
            'batch to its end (dataloader start-up, once per run with '
            'persistent workers, is given apart); Images/s = images / epoch '
            'time; Ratio = Images/s / the largest fraction\'s')


def epoch_timer(device):
    """An mmengine hook timing a training epoch from its first batch to its
    end (``seconds``) and the wait for that first batch (``startup``)."""
    from mmengine.hooks import Hook

    class EpochTimer(Hook):
        def before_train_epoch(self, runner):
            sync(device)
            self.start = self.first = time.perf_counter()

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if batch_idx == 0:
                self.first = time.perf_counter()

        def after_train_epoch(self, runner):
            sync(device)
            self.startup = self.first - self.start
            self.seconds = time.perf_counter() - self.first
    return EpochTimer()


def emit_epochs(args, mode, device, work_root, emit):
    """One epoch per fraction of the training split, largest first (the
    reference of the ratio), after an untimed warm-up run."""
    total = train_size(args.data_root)
    sizes = sorted(zip(epoch_sizes(total, args.epoch_fractions,
                                   args.epoch_max_images, args.batch),
                       args.epoch_fractions), reverse=True)
    ours_train(args, mode, osp.join(work_root, 'epoch_warmup'),
               args.batch * max(1, args.warmup))
    reference = None
    for images, share in sizes:
        timer = epoch_timer(device)
        with PeakMemory(device) as mem:
            _, data, steps = ours_train(
                args, mode, osp.join(work_root, f'epoch_{share}'), images,
                hook=timer)
        speed = images / timer.seconds
        reference = reference or speed
        estimate = (f'; all {total}: ~{total / speed:.0f} s at this speed'
                    if images < share * total - args.batch else '')
        emit(row(f'ours: epoch, {share:.0%} ({images} images)', mode,
                 args.batch, timer.seconds / steps, data,
                 ratio=speed / reference, memory=mem.mb,
                 note=f'{timer.seconds:.2f} s epoch, {steps} steps; first '
                 f'batch after {timer.startup:.2f} s{estimate}'))


def train_size(data_root):
    with open(osp.join(data_root, 'train.txt')) as f:
        return sum(1 for line in f if line.strip())


def val_images(data_root, count):
    """``count`` val image paths (repeated if val is smaller)."""
    with open(osp.join(data_root, 'val.txt')) as f:
        paths = [osp.join(data_root, line.rsplit(' ', 1)[0])
                 for line in f if line.strip()]
    return (paths * -(-count // len(paths)))[:count]


def prepare_data(args, work_root):
    """Annotation files for the photos (or generated images) in a
    temporary folder, unless ``--data-root`` names existing ones."""
    if args.data_root:
        if not osp.isfile(osp.join(args.data_root, 'train.txt')):
            raise UserInputError(
                f'--data-root {args.data_root}: no train.txt; make one with '
                'tools/dataset/make_annotations.py')
        return args.data_root, args.data_root
    from custom_modules.datasets.annotations import make_annotations
    source = args.photos
    if args.smoke or not source or not osp.isdir(source):
        from custom_modules.datasets.synthetic_flowers import make_dataset
        source = osp.join(work_root, 'generated')
        make_dataset(source, per_class=12 if args.smoke else 40,
                     size=max(48, args.size * 8 // 7), seed=0)
    out = osp.join(work_root, 'annotations')
    make_annotations(source, out, workers=1, progress=False,
                     on_problem='exclude')
    return out, source


def fractions(text):
    """``--epoch-fractions 0.25,0.5,1``: shares in (0, 1]."""
    try:
        values = [float(v) for v in text.split(',') if v.strip()]
    except ValueError:
        values = []
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(
            f'{text!r}: give shares of the training split in (0, 1], '
            'comma-separated, e.g. 0.25,0.5,1')
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224,
                        help='image size (crop) in pixels')
    parser.add_argument('--iters', type=int, default=5,
                        help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations before them')
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[4, 8, 16])
    parser.add_argument('--frozen', type=int, nargs='+', default=[-1, 2, 3],
                        help='frozen_stages values to compare')
    parser.add_argument('--modes', nargs='+', choices=list(MODES),
                        default=list(MODES),
                        help='precision / layout modes (fp32 always runs)')
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=PARTS,
                        help='what to measure (default: everything)')
    parser.add_argument('--workers', type=int,
                        help='dataloader workers (default: the config\'s)')
    parser.add_argument('--eval-iters', type=int, default=20,
                        help='timed batches of each eval measurement')
    parser.add_argument('--epoch-fractions', type=fractions,
                        default=[0.25, 0.5, 1.0],
                        help='shares of train.txt to time one epoch over '
                        '(default: 0.25,0.5,1)')
    parser.add_argument('--epoch-max-images', type=int,
                        help='cap: time the fractions of the first N '
                        'training images only (default: all of train.txt)')
    parser.add_argument('--photos', default=PHOTOS,
                        help='class-per-folder photos (default: the shared '
                        'flower photos; generated images if absent)')
    parser.add_argument('--data-root', help='existing annotation files to '
                        'use instead of --photos')
    parser.add_argument('--out', help='also write the table to this .md')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing --out file')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny model, tiny generated images: seconds')
    args = parser.parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    for name in ('batch', 'size', 'iters', 'eval_iters', 'epoch_max_images'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserInputError(f'--{name.replace("_", "-")} must be >= 1.')
    if args.warmup < 0:
        raise UserInputError('--warmup must be >= 0.')
    return args


def main(argv=None):
    args = parse_args(argv)
    load_config(args.config)  # a clear error for a wrong path, up front
    if args.out:
        if not args.out.endswith('.md'):
            raise UserInputError(f'--out {args.out}: use a .md file name.')
        check_new(args.out, args.force)
    import torch
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    with tempfile.TemporaryDirectory(prefix='benchmark_') as work_root:
        args.data_root, source = prepare_data(args, work_root)
        lines = ['# Benchmark', '']
        lines += [f'- {line}' for line in environment(args, device)]
        lines += [f'- images: {source}']
        if 'epoch' in args.parts:
            lines.append(f'- {epoch_header(args, train_size(args.data_root))}')
        lines.append('')
        print('\n'.join(lines), flush=True)
        rows = measure(args, device, work_root)
    table = '\n'.join(lines + [HEADER, RULE, *rows, ''])
    if args.out:
        atomic_write(args.out, lambda f: f.write(table), args.force)
        print(f'wrote {args.out}')
    return table
