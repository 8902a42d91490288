"""The dataset doctor: near-duplicates, doubtful labels, outliers, imbalance.

    python tools/dataset/doctor.py ../shared/datasets/flower_dataset

writes ``report.json``, ``review.html`` and ``decisions.txt`` to ``--out``;
edit ``decisions.txt``, then apply it with ``make_annotations.py SRC
--decisions work_dirs/doctor/decisions.txt``. See docs/doctor.md.
"""
import argparse

from custom_modules.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='folder with one sub-folder per class')
    parser.add_argument('--out', default='work_dirs/doctor',
                        help='where report.json, review.html and '
                        'decisions.txt go (default: %(default)s)')
    parser.add_argument('--top', type=int, default=30,
                        help='label suspects and outliers shown '
                        '(default: %(default)s)')
    parser.add_argument('--size', type=int, default=160,
                        help='feature resolution in pixels '
                        '(default: %(default)s)')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from custom_modules.apis.doctor import run_doctor  # lazy: torch, after --help
    report = run_doctor(args.src, args.out, size=args.size, top=args.top,
                        progress=not args.quiet)
    print(f'{report["photos"]} photos, {len(report["groups"])} near-duplicate '
          f'groups ({report["label_conflicts"]} across classes), '
          f'{len(report["label_suspects"])} label suspects, imbalance '
          f'{report["imbalance"]:.2f}, {report["seconds"]} s\n'
          f'look at {args.out}/review.html, edit {args.out}/decisions.txt, '
          f'then: python tools/dataset/make_annotations.py {args.src} '
          f'--decisions {args.out}/decisions.txt')
    return 0


if __name__ == '__main__':
    run_cli(main)
