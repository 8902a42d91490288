"""Per-class metrics, a confusion matrix and the most confident mistakes.

    python tools/test.py CONFIG CKPT --out preds.json
    python tools/analysis/analyze_predictions.py preds.json \
        --classes data/flower_dataset/classes.txt --out-dir analysis/
"""
import argparse

from custom_modules.evaluation.predictions import analyze, rows_to_markdown
from custom_modules.utils.cli import add_force, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('preds', help='.json written by tools/test.py --out')
    parser.add_argument('--classes', help='classes.txt for class names')
    parser.add_argument('--out-dir', default='.', help='output folder')
    add_force(parser, 'existing outputs in --out-dir')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out, rows, accuracy = analyze(args.preds, args.classes, args.out_dir,
                                  args.force)
    print(rows_to_markdown(rows, accuracy))
    for path in out.values():
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    run_cli(main)
