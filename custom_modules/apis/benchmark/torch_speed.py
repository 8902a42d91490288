"""Training, evaluation and inference speed, in one table
(``tools/analysis/benchmark.py``): *bare*, the model stepped by hand on
in-memory tensors; *ours*, the tools' Runners on JPEG files, and infer.py.
"""
import collections
import itertools
import os.path as osp
import statistics
import tempfile
import uuid

import torch
import torch.nn.functional as F
from mmengine.fileio import list_from_file
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

from custom_modules.datasets.annotations import make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.paths import ROOT

from .. import testing, training
from ..config import load_config
from ..model import build_inferencer, predict
from ..precision import amp_dtype
from .timing import HEADER, RULE, environment, peak_memory, row, spread, time_calls

# The tools' flags of each mode.
MODES = {'fp32': dict(amp=False, channels_last=False),
         'channels_last': dict(amp=False, channels_last=True),
         'amp': dict(amp=True, channels_last=False),
         'amp+channels_last': dict(amp=True, channels_last=True)}
PARTS = ('train', 'eval', 'frozen', 'batch', 'epoch')
# What to measure: the options of tools/analysis/benchmark.py, by name.
Settings = collections.namedtuple('Settings', [
    'config', 'data_root', 'photos', 'batch', 'size', 'iters', 'warmup', 'eval_iters',
    'batch_sizes', 'frozen', 'modes', 'parts', 'workers', 'epoch_fractions',
    'epoch_max_images', 'smoke'])


def set_resolution(cfg, size):
    """Train and test crops of ``size`` px (test images resized by 256/224 first)."""
    values = {'RandomResizedCrop': ('scale', size), 'CenterCrop': ('crop_size', size),
              'ResizeEdge': ('scale', size * 256 // 224)}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for step in (cfg.get(key) or {}).get('dataset', {}).get('pipeline', []):
            if step['type'] in values:
                name, value = values[step['type']]
                step[name] = value


def amp_refusal(device):
    """Why ``--amp`` cannot run on ``device``, or None."""
    try:
        amp_dtype(None, device)
    except UserInputError as error:
        return str(error)


def autocast(amp, device):
    """float16 autocast on a GPU, bfloat16 on the CPU; off unless ``amp``."""
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    return torch.autocast(device, dtype=dtype, enabled=amp)


def build_model(cfg, device, frozen_stages=None):
    """The config's model, randomly initialised, on ``device``."""
    backbone = dict(cfg.model.backbone, init_cfg=None)
    if frozen_stages is not None:
        backbone['frozen_stages'] = frozen_stages
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(dict(cfg.model, backbone=backbone)).to(device)


def bare_step(cfg, mode, batch, size, device, train=True, frozen_stages=None):
    """A function running one training step on a random batch, or with
    ``train=False`` one forward pass in eval mode."""
    amp, channels_last = MODES[mode]['amp'], MODES[mode]['channels_last']
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build_model(cfg, device, frozen_stages).train(train).to(memory_format=fmt)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, cfg.model.head.num_classes, (batch, ), device=device)
    opt_cfg = dict(cfg.optim_wrapper.optimizer)
    optimizer = getattr(torch.optim, opt_cfg.pop('type'))(
        [p for p in model.parameters() if p.requires_grad], **opt_cfg)
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    scaler = torch.amp.GradScaler('cuda', enabled=amp and device == 'cuda')
    count = itertools.count(1)

    def step():
        with torch.set_grad_enabled(train), autocast(amp, device):
            out = model(x, mode='tensor')
            if not train:
                return
            loss = F.cross_entropy(out, y) / accumulate
        scaler.scale(loss).backward()
        if next(count) % accumulate == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
    return step


def bare_train(cfg, s, mode, device, batch=None, frozen_stages=None):
    """Mean seconds of a bare training step, ``s.iters`` after ``s.warmup``."""
    step = bare_step(cfg, mode, batch or s.batch, s.size, device, True, frozen_stages)
    return statistics.fmean(time_calls(step, s.iters, s.warmup, device))


def _run(runner_cfg, s, loader, images, phase):
    """Run ``runner_cfg`` quietly over the first ``images`` of ``loader``;
    seconds of each iteration and of its wait for data."""
    set_resolution(runner_cfg, s.size)
    loader = runner_cfg[loader]
    loader.update(batch_size=s.batch)
    loader.dataset.indices = images
    if s.workers is not None:
        loader.update(num_workers=s.workers, persistent_workers=s.workers > 0)
    runner_cfg.log_level = 'WARNING'
    runner_cfg.experiment_name = f'benchmark_{uuid.uuid4().hex[:8]}'
    runner_cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    runner = Runner.from_cfg(runner_cfg)
    getattr(runner, phase)()
    return [list(runner.message_hub.get_scalar(f'{phase}/{key}').data[0])
            for key in ('time', 'data_time')]


def ours_train(s, mode, work_root, name, images):
    """One epoch of tools/train.py's Runner over the first ``images``, in
    ``work_root/name``."""
    cfg = training.build_train_config(training.train_options(
        s.config, from_scratch=True, no_validate=True, data_root=s.data_root,
        work_dir=osp.join(work_root, name), **MODES[mode]))
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = None  # constant lr: a one-epoch schedule is moot
    cfg.default_hooks.checkpoint = None
    return _run(cfg, s, 'train_dataloader', images, 'train')


def ours_test(s, mode, checkpoint, work_dir, batches):
    """Seconds of each of ``batches`` batches of tools/test.py's loop."""
    cfg = testing.build_test_config(testing.options_for_test(
        s.config, checkpoint, data_root=s.data_root, work_dir=work_dir, **MODES[mode]))
    images = s.batch * (s.warmup + batches)
    return _run(cfg, s, 'test_dataloader', images, 'test')[0][s.warmup:]


def ours_infer(s, mode, checkpoint, paths, device):
    """Seconds per image of the inference tool (decoding included)."""
    cfg = load_config(s.config)
    set_resolution(cfg, s.size)
    inferencer = build_inferencer(
        s.config, checkpoint, device, **MODES[mode], cfg_options={
            'test_dataloader.dataset.pipeline': cfg.test_dataloader.dataset.pipeline})
    warm, timed = paths[:s.batch * s.warmup], paths[s.batch * s.warmup:]
    predict(inferencer, warm, batch_size=s.batch)
    [seconds] = time_calls(lambda: predict(inferencer, timed, batch_size=s.batch),
                           1, device=device)
    print(flush=True)  # after mmpretrain's progress bar
    return seconds / len(timed)


def emit_eval(s, cfg, mode, device, checkpoint, paths, work_dir, emit):
    """The eval rows of one mode; bare ``model(x)`` is timed in two halves,
    around test.py's loop, so a change of load reaches both."""
    half = max(1, s.eval_iters // 2)
    forward = bare_step(cfg, mode, s.batch, s.size, device, train=False)
    with peak_memory(device) as bare_mem:
        bare = time_calls(forward, half, s.warmup, device)
    with peak_memory(device) as mem:
        ours = ours_test(s, mode, checkpoint, work_dir, s.eval_iters)
    bare += time_calls(forward, max(1, s.eval_iters - half), s.warmup, device)
    (base, base_note), (step, note) = spread(bare), spread(ours)
    emit(row('bare eval: model(x)', mode, s.batch, base, memory=bare_mem.mb,
             note=base_note))
    emit(row('ours: test.py loop', mode, s.batch, step, ratio=base / step,
             memory=mem.mb, note=f'{note}; ratio: ours / bare eval speed (medians)'))
    with peak_memory(device) as mem:
        per_image = ours_infer(s, mode, checkpoint, paths, device)
    emit(row('ours: infer.py', mode, s.batch, per_image,
             ratio=(base / s.batch) / per_image, memory=mem.mb,
             note='step = per image; decodes in-process, no workers', per_image=True))


def epoch_sizes(total, fractions, cap, batch):
    """Images in each timed epoch: ``fractions`` of the training split (of
    its first ``cap``), in whole batches (no last batch to re-tune oneDNN)."""
    base = min(total, cap) if cap else total
    return [max(1, int(f * base) // batch) * batch for f in fractions]


def epoch_header(s, total):
    """What the epoch rows measured, for the page's header."""
    cap = s.epoch_max_images
    base = (f'the first {cap} of the {total} training images (--epoch-max-images)'
            if cap and cap < total else f'the {total} training images of train.txt')
    shares = ', '.join(f'{f:.0%}' for f in s.epoch_fractions)
    return (f"epoch rows: one real epoch of tools/train.py's Runner (no validation) "
            f'over {shares} of {base}, in whole batches, timed from its first batch '
            'to its end (the dataloader start-up before it is in the note); '
            "Images/s = images / epoch time; Ratio = Images/s / the largest share's")


def emit_epochs(s, mode, work_root, emit, device):
    """One epoch per fraction, largest (the ratio's reference) first."""
    total = len(list_from_file(osp.join(s.data_root, 'train.txt')))
    sizes = epoch_sizes(total, s.epoch_fractions, s.epoch_max_images, s.batch)
    ours_train(s, mode, work_root, 'epoch_warmup', s.batch * max(1, s.warmup))
    reference = None
    for images, share in sorted(zip(sizes, s.epoch_fractions), reverse=True):
        with peak_memory(device) as mem:
            times, data = ours_train(s, mode, work_root, f'epoch_{share}', images)
        seconds = sum(times) - data[0]  # from the first batch on
        reference = reference or images / seconds
        estimate = (f'; all {total}: ~{total * seconds / images:.0f} s at this speed'
                    if images < share * total - s.batch else '')
        emit(row(f'ours: epoch, {share:.0%} ({images} images)', mode, s.batch,
                 seconds / len(times), _data_share(times, data, s.warmup),
                 ratio=images / seconds / reference, memory=mem.mb,
                 note=f'{seconds:.2f} s epoch, {len(times)} steps; first batch '
                 f'after {data[0]:.2f} s{estimate}'))


def _data_share(times, data, warmup):
    """The share of the post-warm-up steps spent waiting for data."""
    skip = min(warmup, len(times) - 1)
    return sum(data[skip:]) / sum(times[skip:])


def prepare_data(s, work_root):
    """``(annotation folder, images)``: ``s.data_root``, else annotations of
    ``s.photos`` (or generated images) in ``work_root``."""
    if s.data_root:
        if not osp.isfile(osp.join(s.data_root, 'train.txt')):
            raise UserInputError(
                f'--data-root {s.data_root}: no train.txt; make one with '
                'tools/dataset/make_annotations.py')
        return s.data_root, s.data_root
    source = s.photos
    if s.smoke or not source or not osp.isdir(source):
        source = osp.join(work_root, 'generated')
        make_dataset(source, per_class=12 if s.smoke else 40,
                     size=max(48, s.size * 8 // 7), seed=0)
    out = osp.join(work_root, 'annotations')
    make_annotations(source, out, workers=1, progress=False, on_problem='exclude')
    return out, source


def measure(s, device, work_root, emit):
    """Every row of the table, handed to ``emit`` as it is measured."""
    cfg = load_config(s.config)
    refusal = amp_refusal(device)
    modes = [m for m in s.modes if not (MODES[m]['amp'] and refusal)]
    modes = list(dict.fromkeys(['fp32', *modes]))  # fp32: every ratio's reference
    for name in s.modes:
        if name not in modes:
            emit(row('training step', name, s.batch, note=f'skipped: {refusal}'))
    steps = s.batch * (s.warmup + s.iters)
    bare = {}
    for mode in modes if 'train' in s.parts else ():
        with peak_memory(device) as mem:
            bare[mode] = bare_train(cfg, s, mode, device)
        emit(row('bare training step', mode, s.batch, bare[mode],
                 ratio=bare['fp32'] / bare[mode], memory=mem.mb,
                 note='ratio: speed-up over bare fp32'))
    for mode in modes if 'train' in s.parts else ():
        with peak_memory(device) as mem:
            times, data = ours_train(s, mode, work_root, f'train_{mode}', steps)
        step = statistics.fmean(times[min(s.warmup, len(times) - 1):])
        emit(row('ours: train.py Runner, JPEGs', mode, s.batch, step,
                 _data_share(times, data, s.warmup), bare[mode] / step, mem.mb,
                 'ratio: ours / bare speed, same mode'))
    checkpoint = osp.join(work_root, 'weights.pth')
    classes = list_from_file(osp.join(s.data_root, 'classes.txt'))
    torch.save({'state_dict': build_model(cfg, device).state_dict(),
                'meta': {'dataset_meta': {'classes': classes}}}, checkpoint)
    val = [osp.join(s.data_root, line.rsplit(' ', 1)[0])
           for line in list_from_file(osp.join(s.data_root, 'val.txt'))]
    paths = (val * -(-steps // len(val)))[:steps]  # repeated if val is smaller
    for mode in modes if 'eval' in s.parts else ():
        emit_eval(s, cfg, mode, device, checkpoint, paths,
                  osp.join(work_root, f'test_{mode}'), emit)
    fastest = dict.fromkeys(('fp32', modes[-1]))
    for frozen in s.frozen if 'frozen' in s.parts else ():
        for mode in fastest:
            emit(row(f'bare step, frozen_stages={frozen}', mode, s.batch,
                     bare_train(cfg, s, mode, device, frozen_stages=frozen)))
    for batch in s.batch_sizes if 'batch' in s.parts else ():
        for mode in fastest:
            with peak_memory(device) as mem:
                step = bare_train(cfg, s, mode, device, batch)
            emit(row('bare step, batch size', mode, batch, step, memory=mem.mb))
    if 'epoch' in s.parts:
        emit_epochs(s, modes[-1], work_root, emit, device)


def benchmark(s):
    """Measure on the GPU if there is one, else the CPU, printing each line.

    Args:
        s (Settings): what to measure.

    Returns:
        str: the Markdown page: environment lines, then the table.
    """
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    with tempfile.TemporaryDirectory(prefix='benchmark_') as work_root:
        data_root, source = prepare_data(s, work_root)
        s = s._replace(data_root=data_root)
        lines = [*environment(device), (
            f'device: {device}; config: {osp.relpath(s.config, ROOT)}; batch '
            f'{s.batch}; resolution {s.size} px; {s.iters} timed iterations '
            f'({s.eval_iters} batches in eval rows) after {s.warmup} warm-up ones'),
            f'images: {source}']
        if 'epoch' in s.parts:
            total = len(list_from_file(osp.join(data_root, 'train.txt')))
            lines.append(epoch_header(s, total))
        lines = ['# Benchmark', '', *(f'- {line}' for line in lines), '', HEADER, RULE]
        print('\n'.join(lines), flush=True)

        def emit(line):
            lines.append(line)
            print(line, flush=True)
        measure(s, device, work_root, emit)
    return '\n'.join([*lines, ''])
