"""McNemar's exact test on hand-computed tables, and the grid's matrix."""
import pytest

from custom_modules.evaluation.significance import (
    mcnemar_exact,
    pairwise,
    significance_markdown,
)


@pytest.mark.parametrize('only_a, only_b, expected', [
    # 1 vs 9 discordant: 2 * (C(10,0) + C(10,1)) / 2^10 = 22 / 1024.
    (1, 9, 22 / 1024),
    (9, 1, 22 / 1024),
    # 0 vs 6: 2 / 64.
    (0, 6, 2 / 64),
    # 3 vs 5: 2 * (1 + 8 + 28 + 56) / 256 = 186 / 256.
    (3, 5, 186 / 256),
    (4, 4, 1.0),
    (0, 0, 1.0),
])
def test_mcnemar_exact_by_hand(only_a, only_b, expected):
    assert mcnemar_exact(only_a, only_b) == pytest.approx(expected)


def test_mcnemar_agrees_with_scipy():
    stats = pytest.importorskip('scipy.stats')
    for a, b in [(2, 11), (7, 20), (13, 13), (0, 25)]:
        assert mcnemar_exact(a, b) == pytest.approx(
            stats.binomtest(a, a + b, 0.5).pvalue)


def test_pairs_count_discordant_images_on_shared_paths():
    a = {f'{i}.jpg': i < 90 for i in range(100)}  # right on 0..89
    b = {f'{i}.jpg': 10 <= i for i in range(100)}  # right on 10..99
    c = dict(b, **{'extra.jpg': True})  # an image only c has is ignored
    tests = pairwise([('a', a), ('b', b), ('c', c)])
    assert tests[0, 1] == (1.0, 10, 10, 100)
    assert tests[1, 2][1:] == (0, 0, 100)
    text = significance_markdown(['a', 'b', 'c'],
                                 [('a', a), ('b', b), ('c', c)], 'test')
    assert '| 1 | a | — | 1.000 | 1.000 |' in text
    worse = {k: v and k != '5.jpg' and int(k.split('.')[0]) > 20
             for k, v in a.items()}  # right on 21..89 only: 21 fewer
    text = significance_markdown(['a', 'worse'], [('a', a),
                                                  ('worse', worse)], 'val')
    assert '| 2 | worse | 0.000* | — |' in text
    assert 'cannot tell the two apart' in text


def write_predictions(path, right):
    """A tools/test.py --out file: two classes, true label 0, the
    prediction right where ``right`` says so."""
    import json
    samples = [dict(pred_score=[0.9, 0.1] if r else [0.2, 0.8], gt_label=0,
                    img_path=f'{i}.jpg') for i, r in enumerate(right)]
    with open(path, 'w') as f:
        json.dump({'samples': samples}, f)
    return str(path)


def test_results_gain_a_test_column_and_the_matrix(tmp_path):
    from custom_modules.apis.grid.results import write_results
    common = dict(frozen_stages='2', augmentation='fixed', seed=None,
                  train_acc=90.0, val_acc=85.0, best_epoch=3, macro_f1=80.0,
                  wall_time_s=10.0, img_per_s=5.0, split='test',
                  val_ece=8.0, val_ece_scaled=3.0)
    records = [
        dict(common, config='a.py', model='ResNet-101', test_acc=90.0,
             test_ece=7.0, test_ece_scaled=2.5, predictions=write_predictions(
                 tmp_path / 'a.json', [True] * 90 + [False] * 10)),
        dict(common, config='b.py', model='VGG-11', test_acc=60.0,
             test_ece=9.0, test_ece_scaled=4.0, predictions=write_predictions(
                 tmp_path / 'b.json', [True] * 60 + [False] * 40)),
    ]
    paths, _ = write_results(str(tmp_path), records)
    text = open(paths['results.md']).read()
    assert '| Val acc (%) | Test acc (%) | Best epoch |' in text
    assert '| 85.00 | 90.00 | 3 |' in text and '| 7.00 -> 2.50 |' in text
    # 30 images only a gets right, none only b: p = 2 / 2^30.
    assert '| 2 | VGG-11 f2 fixed | 0.000* | — |' in text
    assert 'McNemar\'s exact test, test split' in text
    header = open(paths['results.csv']).readline()
    assert 'test_acc' in header and 'test_ece_scaled' in header


def test_sign_flip_over_seeds_by_hand():
    from custom_modules.evaluation.significance import sign_flip_p
    # All 3 differences positive: only all-plus and all-minus are as
    # extreme, 2 of 8 sign patterns.
    assert sign_flip_p([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)
    # +1, +1, -1: |sum| = 1; patterns with |sum| >= 1 are all 8.
    assert sign_flip_p([1.0, 1.0, -1.0]) == pytest.approx(1.0)
    assert sign_flip_p([0.5] * 6) == pytest.approx(2 / 64)


def test_results_with_seeds_add_the_paired_matrix(tmp_path):
    from custom_modules.apis.grid.results import write_results
    records = []
    for config, model, base in (('a.py', 'ResNet-101', 80.0),
                                ('b.py', 'VGG-11', 70.0)):
        for seed in range(3):
            records.append(dict(
                config=config, model=model, frozen_stages='2',
                augmentation='fixed', seed=seed, train_acc=90.0,
                val_acc=base + seed, best_epoch=3, macro_f1=80.0,
                wall_time_s=10.0, img_per_s=5.0, split='val',
                predictions=write_predictions(
                    tmp_path / f'{config}{seed}.json',
                    [True] * int(base) + [False] * (100 - int(base)))))
    paths, _ = write_results(str(tmp_path), records)
    text = open(paths['results.md']).read()
    assert 'Paired differences over seeds (val acc' in text
    assert '| 1 | ResNet-101 f2 fixed | — | +10.00 (p 0.25) |' in text
    assert 'smallest possible p is 0.25' in text
