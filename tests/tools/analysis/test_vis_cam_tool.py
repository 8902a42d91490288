"""tools/visualization/vis_cam.py: which predictions it explains, the PNG it
writes, and its errors."""
import json
import os.path as osp
import shutil

import pytest
from conftest import TINY_CONFIG, load_tool, run_main
from PIL import Image

from custom_modules.evaluation.predictions import load_predictions
from custom_modules.visualization.cam import select_examples

main = load_tool('tools/visualization/vis_cam.py').main


def write_preds(path, samples):
    with open(path, 'w') as f:
        json.dump({'format': 1, 'samples': [
            dict(img_path=p, gt_label=t, pred_score=s) for p, t, s in samples
        ]}, f)
    return str(path)


def scores(label, p, num=3):
    rest = (1 - p) / (num - 1)
    return [p if i == label else rest for i in range(num)]


def test_selection_takes_the_most_confident_mistakes_and_hits(tmp_path):
    # (true, predicted, score of the predicted class)
    rows = [(0, 1, 0.60), (1, 1, 0.70), (2, 0, 0.90), (0, 0, 0.95),
            (1, 2, 0.40), (0, 0, 0.50), (2, 1, 0.85), (1, 1, 0.99),
            (0, 2, 0.34)]
    preds = write_preds(tmp_path / 'p.json', [
        (f'{i}.jpg', t, scores(p, s)) for i, (t, p, s) in enumerate(rows)])
    all_scores, labels, _ = load_predictions(preds)
    wrong, right = select_examples(all_scores, labels, worst=3, per_class=1)
    assert wrong == [2, 6, 0]            # 0.90, 0.85, 0.60 in a wrong class
    assert right == [3, 7]               # class 0: 0.95, class 1: 0.99, 2: none
    wrong, right = select_examples(all_scores, labels, worst=10,
                                   per_class=2)
    assert wrong == [2, 6, 0, 4, 8] and right == [3, 5, 7, 1]
    assert select_examples(all_scores, labels, 0, 0) == ([], [])


@pytest.fixture(scope='module')
def photos(annotated_root):
    """The first ten val images of the synthetic set and their labels."""
    with open(osp.join(annotated_root, 'val.txt')) as f:
        lines = [line.split() for line in f][:10]
    return [(osp.join(annotated_root, p), int(t)) for p, t in lines]


def assert_png(path, min_width=100):
    with Image.open(path) as img:
        assert img.format == 'PNG' and img.width > min_width


def test_grid_png_of_mistakes_and_correct_predictions(photos, tiny_checkpoint,
                                                      tmp_path, capsys):
    samples = [(p, t, scores((t + 1) % 5 if i < 3 else t, 0.5 + i / 40, 5))
               for i, (p, t) in enumerate(photos)]
    samples.append(('missing.jpg', 0, scores(1, 0.99, 5)))
    preds = write_preds(tmp_path / 'preds.json', samples)
    out = str(tmp_path / 'cams.png')
    argv = [TINY_CONFIG, tiny_checkpoint, '--preds', preds, '--out', out,
            '--worst', '2', '--per-class', '1', '--device', 'cpu']
    code, err = run_main(main, argv, capsys)
    assert code == 0, err
    assert 'warning: missing.jpg not found' in err
    assert_png(out, 300)
    # Never replaced without --force.
    code, err = run_main(main, argv, capsys)
    assert code == 2 and f'{out} exists; pass --force' in err
    assert run_main(main, [*argv, '--force'], capsys)[0] == 0


def test_one_photo_with_a_chosen_class(photos, tiny_checkpoint, tmp_path,
                                       capsys):
    out = str(tmp_path / 'one.png')
    code, err = run_main(main, [TINY_CONFIG, tiny_checkpoint, '--img',
                                photos[0][0], '--out', out, '--target', '3',
                                '--target-layers', 'backbone.layer3'],
                         capsys)
    assert code == 0, err
    assert_png(out)


def test_without_out_the_png_goes_next_to_the_checkpoint(
        photos, tiny_checkpoint, tmp_path, capsys):
    """Before: --out was required."""
    checkpoint = str(tmp_path / 'best.pth')
    shutil.copy(tiny_checkpoint, checkpoint)
    code, err = run_main(main, [TINY_CONFIG, checkpoint, '--img',
                                photos[0][0]], capsys)
    stem = osp.splitext(osp.basename(photos[0][0]))[0]
    assert code == 0, err
    assert_png(str(tmp_path / f'best.cam_{stem}.png'))


@pytest.mark.parametrize('extra, message', [
    (['--target-layers', 'backbone.layer9'],
     '--target-layers backbone.layer9: the model has no module of that name'),
    (['--target-layers', 'head.fc'], '(N, C, H, W) feature map'),
    (['--target', '7'], 'the model has 5 classes'),
])
def test_bad_layer_or_class_is_named(photos, tiny_checkpoint, tmp_path,
                                     capsys, extra, message):
    out = tmp_path / 'x.png'
    code, err = run_main(main, [TINY_CONFIG, tiny_checkpoint, '--img',
                                photos[0][0], '--out', str(out), *extra],
                         capsys)
    assert code == 2 and message in err
    assert not out.exists()


@pytest.mark.parametrize('extra, message', [
    (['--out', 'cams.jpg'], 'name a .png file'),
    (['--worst', '0', '--per-class', '0'], 'at least one of them above 0'),
    (['--target', 'rose'], '--target goes with --img'),
])
def test_bad_options_fail_before_the_model_loads(tmp_path, capsys, extra,
                                                 message):
    preds = write_preds(tmp_path / 'p.json', [('a.jpg', 0, [0.5, 0.5])])
    argv = [TINY_CONFIG, 'no_such.pth', '--preds', preds, '--out',
            str(tmp_path / 'c.png'), *extra]
    code, err = run_main(main, argv, capsys)
    assert code == 2 and message in err


def test_predictions_of_another_model_are_refused(photos, tiny_checkpoint,
                                                  tmp_path, capsys):
    preds = write_preds(tmp_path / 'p.json', [(photos[0][0], 0, [0.6, 0.4])])
    code, err = run_main(main, [TINY_CONFIG, tiny_checkpoint, '--preds',
                                preds, '--out', str(tmp_path / 'c.png')],
                         capsys)
    assert code == 2 and 'has 2 scores per image, the model 5 classes' in err
