"""Classify images with a trained model: top-k classes with scores.

    python tools/infer.py CONFIG CHECKPOINT photo.jpg folder/ 'more/*.jpg' \\
        [--topk 3] [--out predictions.csv|.json] [--device cpu]
    python tools/infer.py MODEL.onnx photo.jpg folder/ [--topk 3] [--out ...]
        [--backend auto|onnxruntime|openvino]

Inputs may be image files, folders (searched recursively), glob patterns or
http(s) URLs (downloaded to a temporary file, up to 50 MB each).
Scores are calibrated, with "unknown" answers, when the checkpoint has a
.calibration.json or the .onnx embeds one (--no-calibration, --threshold).
With a model from tools/deploy/export_onnx.py, only onnxruntime (or openvino),
numpy and Pillow are used: torch and mmengine are never imported.
"""
import argparse
import sys

from custom_modules.apis.checkpoint_fit import ALLOW_FLAG
from custom_modules.apis.inference import (
    collect_images,
    local_files,
    predict_checkpoint,
    predict_onnx,
    print_results,
    write_results,
)
from custom_modules.apis.precision import add_speed_args, check_speed_args
from custom_modules.evaluation.calibration import add_calibration_args, check_threshold
from custom_modules.utils.cli import add_cfg_options, add_force, run_cli
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.fileio import check_new, read_classes


def parse_args(argv):
    onnx = bool(argv) and argv[0].endswith('.onnx')
    parser = argparse.ArgumentParser(
        usage='%(prog)s CONFIG CHECKPOINT INPUTS... [options]\n'
        '       %(prog)s MODEL.onnx INPUTS... [options]',
        description='Classify images with a trained checkpoint, or with an '
        'exported .onnx model (no torch needed). INPUTS: files, folders, '
        'glob patterns or http(s) URLs.')
    if onnx:
        parser.add_argument('model', help='exported .onnx model')
        parser.set_defaults(config=None, classes=None)
    else:
        parser.add_argument('config', help='config file, e.g. '
                            'configs/resnet101_freeze2_mix.py')
        parser.add_argument('checkpoint', help='the trained checkpoint (.pth)')
        parser.set_defaults(model=None)
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders, glob patterns or http(s) URLs')
    parser.add_argument('--topk', type=int, default=3,
                        help='classes listed per image (default: 3)')
    parser.add_argument('--batch-size', type=int, default=16,
                        help='images per forward pass (default: 16)')
    parser.add_argument('--out', help='write results to a .csv or .json')
    add_force(parser, 'an existing --out file')
    add_calibration_args(parser)
    if onnx:
        # lazy: onnxruntime is needed for .onnx models only
        from custom_modules.apis.deploy.onnx_classifier import BACKENDS
        parser.add_argument('--backend', choices=BACKENDS, default='auto',
                            help='the engine that runs the .onnx: openvino where '
                            'the openvino package is installed (faster on the CPUs '
                            'measured in docs/deploy.md), else onnxruntime '
                            '(default: auto)')
        return check_threshold(parser.parse_args(argv))
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ... (default: '
                        'cuda when available)')
    parser.add_argument('--classes', help='classes.txt, if the checkpoint '
                        'has no class names')
    add_cfg_options(parser, help='the overrides the checkpoint was trained '
                    'with, e.g. a smaller image size')
    parser.add_argument(ALLOW_FLAG, action='store_true',
                        help='use a checkpoint that does not fill every '
                        'backbone and head weight of the config\'s model')
    add_speed_args(parser)
    args = parser.parse_args(argv)
    check_speed_args(args)
    return check_threshold(args)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.topk < 1:
        raise UserInputError(f'--topk {args.topk}: must be at least 1.')
    if args.out:
        check_new(args.out, args.force)
    classes = read_classes(args.classes) if args.classes else None
    images = collect_images(args.inputs)
    with local_files(images) as files:
        if args.model:
            results = predict_onnx(args.model, files, args.topk,
                                   args.batch_size, not args.no_calibration,
                                   args.threshold, args.backend)
        else:
            results = predict_checkpoint(args, files, classes)
    for result, image in zip(results, images):
        result['path'] = image  # the URL, not its temporary copy
    print_results(results)
    if args.out:
        write_results(results, args.out, args.force)
        print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    run_cli(main)
