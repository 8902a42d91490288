"""Fit temperature scaling and a reject threshold on val, after training.

    python tools/analysis/calibrate.py CONFIG CHECKPOINT [--coverage 0.95]

Predicts the val split once, fits one temperature T by LBFGS on the NLL of
the val logits (argmax, hence accuracy, unchanged), picks the confidence
threshold that answers ``--coverage`` of val, and writes both to
``<checkpoint>.calibration.json`` (atomically), which ``tools/test.py`` and
``tools/infer.py`` then apply. Plots and the val predictions go to
``--work-dir`` (default ``<checkpoint folder>/calibration/``). With
scikit-image installed, the photos of ``skimage.data`` (an astronaut, a cat,
coffee, a rocket, ...) make a small out-of-distribution set: the share of
them rejected is reported too.
"""
import argparse
import json
import os
import os.path as osp

from custom_modules.engine.pretrained import train_from_scratch
from custom_modules.evaluation.calibration_file import calibration_path
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import atomic_write, check_new, save_figure

from .config import add_runner_args, config_from_args, fix_workers
from .preflight import check_data

# Real photos (no drawings or test patterns) that skimage ships offline.
OOD_PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field',
              'immunohistochemistry', 'retina', 'camera', 'coins', 'moon',
              'text', 'clock', 'grass', 'gravel', 'brick', 'page', 'cell')


def predict_val(cfg, checkpoint, out):
    """Run the checkpoint over the val split; predictions to ``out``."""
    from mmengine.runner import Runner

    import custom_modules.evaluation.metrics  # noqa: F401  (DumpPredictions)
    cfg.load_from = checkpoint
    train_from_scratch(cfg)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = [dict(type='Accuracy', topk=(1, )),
                          dict(type='DumpPredictions', out_file_path=out)]
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    fix_workers(cfg)
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.param_scheduler = None
    check_data(cfg, ('test', ))
    return Runner.from_cfg(cfg).test()


def figures(probs, labels):
    from custom_modules.evaluation.calibration import (
        brier_score,
        expected_calibration_error,
        negative_log_likelihood,
    )
    return dict(ece=100 * expected_calibration_error(probs, labels),
                nll=negative_log_likelihood(probs, labels),
                brier=brier_score(probs, labels))


def ood_photos(folder):
    """Write skimage's photos as PNGs into ``folder``; their paths, or None
    without scikit-image."""
    try:
        from skimage import data
    except ImportError:
        return None
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name in OOD_PHOTOS:
        path = osp.join(folder, f'{name}.png')
        if not osp.isfile(path):
            image = Image.fromarray(getattr(data, name)()).convert('RGB')
            atomic_write(path, lambda f, im=image: im.save(f, format='PNG'),
                         force=True, binary=True)
        paths.append(path)
    return paths


def ood_rejection(args, temperature, threshold, folder):
    """Share of the out-of-distribution photos answered "unknown"."""
    import torch

    from custom_modules.evaluation.calibration import apply_temperature

    from .inference import build_inferencer
    paths = ood_photos(folder)
    if paths is None:
        print('out-of-distribution check skipped: pip install scikit-image')
        return None
    inferencer = build_inferencer(args.config, args.checkpoint,
                                  cfg_options=args.cfg_options)
    scores = torch.stack([torch.as_tensor(r['pred_scores'])
                          for r in inferencer(paths, batch_size=8)])
    conf = apply_temperature(scores, temperature).max(dim=1).values
    rejected = [osp.splitext(osp.basename(p))[0]
                for p, c in zip(paths, conf) if c < threshold]
    return dict(photos=len(paths), rejected=len(rejected),
                rejected_share=100 * len(rejected) / len(paths),
                rejected_names=rejected)


def calibrate(args):
    import matplotlib.pyplot as plt

    from custom_modules.evaluation.calibration import (
        apply_temperature,
        fit_temperature,
        selective_accuracy,
        threshold_for_coverage,
    )
    from custom_modules.evaluation.plots import (
        reliability_figure,
        risk_coverage_figure,
    )
    from custom_modules.evaluation.predictions import load_predictions
    if not osp.isfile(args.checkpoint):
        raise UserInputError(f'checkpoint {args.checkpoint} does not exist.')
    if not 0 < args.coverage <= 1:
        raise UserInputError(f'--coverage {args.coverage}: give the share '
                             'of val photos to answer, in (0, 1], e.g. 0.95')
    out_json = calibration_path(args.checkpoint)
    check_new(out_json, args.force)
    work_dir = args.work_dir or osp.join(osp.dirname(args.checkpoint),
                                         'calibration')
    args.work_dir = work_dir
    cfg = config_from_args(args)
    preds = osp.join(work_dir, 'val_predictions.json')
    if osp.exists(preds):
        os.remove(preds)  # ours, from an earlier calibration
    predict_val(cfg, args.checkpoint, preds)
    probs, labels, _ = load_predictions(preds)
    temperature = fit_temperature(probs, labels)
    scaled = apply_temperature(probs, temperature)
    threshold = threshold_for_coverage(scaled.max(dim=1).values,
                                       args.coverage)
    coverage, accuracy = selective_accuracy(scaled, labels, threshold)
    val = dict(images=len(labels),
               accuracy=100 * float((probs.argmax(1) == labels).double()
                                    .mean()),
               before=figures(probs, labels), after=figures(scaled, labels),
               coverage=100 * coverage, selective_acc=100 * accuracy)
    plots = {'reliability': osp.join(work_dir, 'reliability_val.png'),
             'risk_coverage': osp.join(work_dir, 'risk_coverage_val.png')}
    fig = reliability_figure([('val, uncalibrated', probs, labels),
                              (f'val, temperature {temperature:.3f}', scaled,
                               labels)])
    save_figure(fig, plots['reliability'], force=True)
    plt.close(fig)
    fig = risk_coverage_figure(scaled, labels, threshold,
                               'Risk-coverage on val (temperature-scaled)')
    save_figure(fig, plots['risk_coverage'], force=True)
    plt.close(fig)
    ood = None if args.no_ood else ood_rejection(
        args, temperature, threshold, osp.join(work_dir, 'ood_photos'))
    result = dict(temperature=temperature, threshold=threshold,
                  target_coverage=args.coverage,
                  checkpoint=osp.basename(args.checkpoint), val=val,
                  out_of_distribution=ood, plots=plots)
    atomic_write(out_json, lambda f: json.dump(result, f, indent=2),
                 force=args.force)
    print(calibration_summary(result, out_json))
    return result


def calibration_summary(result, path):
    val, before, after = result['val'], result['val']['before'], \
        result['val']['after']
    lines = [
        f'temperature T = {result["temperature"]:.4f} (fitted on '
        f'{val["images"]} val images; accuracy {val["accuracy"]:.2f} %, '
        'unchanged by T)',
        f'  val ECE:   {before["ece"]:.2f} % -> {after["ece"]:.2f} %',
        f'  val NLL:   {before["nll"]:.4f} -> {after["nll"]:.4f}',
        f'  val Brier: {before["brier"]:.4f} -> {after["brier"]:.4f}',
        f'reject threshold {result["threshold"]:.4f} for '
        f'{100 * result["target_coverage"]:.0f} % coverage: '
        f'{val["coverage"]:.1f} % of val answered, {val["selective_acc"]:.2f}'
        ' % of those right']
    ood = result['out_of_distribution']
    if ood:
        lines.append(
            f'out-of-distribution photos (skimage.data): {ood["rejected"]} of '
            f'{ood["photos"]} rejected ({ood["rejected_share"]:.0f} %)')
    lines.append(f'wrote {path}')
    lines += [f'wrote {p}' for p in result['plots'].values()]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fit temperature scaling and a reject threshold on val')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--coverage', type=float, default=0.95,
                        help='share of val photos the reject option answers '
                        '(default: %(default)s)')
    parser.add_argument('--work-dir', help='plots and val predictions '
                        '(default: <checkpoint folder>/calibration)')
    parser.add_argument('--no-ood', action='store_true',
                        help='skip the skimage.data out-of-distribution check')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing <checkpoint>.calibration.json')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    calibrate(parse_args(argv))
    return 0
