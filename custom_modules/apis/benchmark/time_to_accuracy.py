"""Time to accuracy (``tools/analysis/benchmark.py --time-to-accuracy``):
each recipe's wall time to a target val accuracy, the test accuracy there,
and val accuracy against wall time."""
import itertools
import os.path as osp
import time

from matplotlib.figure import Figure

from custom_modules.utils.fileio import atomic_write, save_figure

from .. import testing, training
from ..config import load_config
from ..run_logs import read_log_entries


def train_recipe(config, work_dir, data_root, seed=0, **flags):
    """Train ``config`` keeping every epoch's checkpoint, timed from the call.

    Returns:
        list[tuple]: (epoch, wall seconds, val top-1 %) per validated epoch.
    """
    hooks = list(load_config(config).get('custom_hooks', []))
    start = time.time()
    options = {'custom_hooks': [*hooks, dict(type='WallClockHook', start=start)],
               'default_hooks.checkpoint.interval': 1,
               'default_hooks.checkpoint.max_keep_ckpts': -1,
               'randomness.seed': seed, **(flags.pop('cfg_options', None) or {})}
    training.train(config, work_dir=work_dir, data_root=data_root,
                   cfg_options=options, **flags)
    _, val = read_log_entries(work_dir)
    return [(epoch, e['wall_clock_s'], e['accuracy/top1'])
            for epoch, e in val.items()]


def time_to_accuracy(recipes, target, data_root, work_root, seeds=(0, ), **flags):
    """Train every recipe with every seed and find when it first reaches
    ``target`` (a short recipe's seeds can differ by points).

    Args:
        recipes (list[str]): config files.
        target (float): val top-1 accuracy in %.
        data_root (str): annotation folder (train.txt, val.txt, test.txt).
        work_root (str): a folder for the runs (one sub-folder per recipe).
        seeds (list[int]): each recipe's runs' seeds.
        **flags: more of ``tools/train.py``'s flags, for every recipe.

    Returns:
        list[dict]: per recipe and seed ``config``, ``seed``, ``curve`` and
        the first epoch at ``target``'s ``epoch``, ``seconds`` and
        ``test_acc`` (or None).
    """
    results = []
    for config, seed in itertools.product(recipes, seeds):
        name = osp.splitext(osp.basename(config))[0]
        if len(seeds) > 1:
            name = f'{name}_seed{seed}'
        work_dir = osp.join(work_root, name)
        curve = train_recipe(config, work_dir, data_root, seed, **flags)
        hit = next((c for c in curve if c[2] >= target), None)
        result = {'config': config, 'seed': seed, 'curve': curve, 'epoch': None,
                  'seconds': None, 'test_acc': None}
        if hit:
            metrics = testing.test(
                config, osp.join(work_dir, f'epoch_{hit[0]}.pth'),
                work_dir=osp.join(work_dir, 'test'), data_root=data_root,
                cfg_options=flags.get('cfg_options'))
            result.update(epoch=hit[0], seconds=hit[1],
                          test_acc=metrics['accuracy/top1'])
        results.append(result)
    return results


def summary_table(results, target):
    """Markdown: one row per recipe and seed."""
    lines = [f'| Recipe | Seed | Seconds to {target:g} % val | Epoch '
             '| Test accuracy (%) | Best val (%) | Total seconds |',
             '|---|---:|---:|---:|---:|---:|---:|']
    for r in results:
        cells = ('-', '-', '-') if r['epoch'] is None else (
            f'{r["seconds"]:.0f}', r['epoch'], f'{r["test_acc"]:.2f}')
        lines.append(f'| {osp.basename(r["config"])} | {r["seed"]} | '
                     + ' | '.join(map(str, cells))
                     + f' | {max(c[2] for c in r["curve"]):.2f} | '
                     f'{r["curve"][-1][1]:.0f} |')
    return lines


def write_results(results, target, out_dir, force=False):
    """``time_to_accuracy.md`` (:func:`summary_table`) and ``.png`` (val accuracy
    against wall time, one line per recipe and seed, the target dashed) in
    ``out_dir``.

    Returns:
        tuple[str, str]: their paths.
    """
    table, path = (osp.join(out_dir, f'time_to_accuracy.{e}') for e in ('md', 'png'))
    atomic_write(table, lambda f: f.write('\n'.join(summary_table(results, target))
                                          + '\n'), force)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for r in results:
        name = osp.splitext(osp.basename(r['config']))[0]
        ax.plot([c[1] for c in r['curve']], [c[2] for c in r['curve']], marker='o',
                label=f'{name}, seed {r["seed"]}')
    ax.axhline(target, color='grey', linestyle='--', linewidth=1,
               label=f'target {target:g} %')
    ax.set(xlabel='wall time from the start of training (s)',
           ylabel='val accuracy (top-1, %)', title='Time to accuracy', xlim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize='small')
    save_figure(fig, path, force)
    return table, path
