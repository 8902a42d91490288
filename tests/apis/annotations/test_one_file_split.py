"""``make_annotations.py --split 0:0:1`` / ``--all-test``: every photo in
one file, to evaluate a model on a folder."""
import pytest
from conftest import load_tool, run_main

from custom_modules.datasets.annotations import DatasetError, parse_split

main = load_tool('tools/dataset/make_annotations.py').main


def test_all_test_puts_every_photo_in_test_txt(synthetic_root, tmp_path,
                                               capsys):
    out = tmp_path / 'out'
    assert main([synthetic_root, '--out-dir', str(out), '--all-test',
                 '--quiet', '--workers', '1']) == 0
    assert sorted(p.name for p in out.glob('*.txt')) == ['classes.txt',
                                                         'test.txt']
    assert len((out / 'test.txt').read_text().splitlines()) == 100


@pytest.mark.parametrize('text, ratios', [('0:0:1', (0, 0, 1)),
                                          ('0:1', (0, 1)), ('1:0', (1, 0)),
                                          ('8:1:1', (0.8, 0.1, 0.1))])
def test_accepted_splits(text, ratios):
    assert parse_split(text) == pytest.approx(ratios)


@pytest.mark.parametrize('text', ['0:1:1', '1:0:1', '0:0:0', '0:0'])
def test_splits_without_train_and_val_or_a_single_file_are_refused(text):
    with pytest.raises(DatasetError, match='0:0:1'):
        parse_split(text)


def test_stale_splits_go_when_rewritten_as_one_file(synthetic_root, tmp_path,
                                                    capsys):
    out = tmp_path / 'out'
    main([synthetic_root, '--out-dir', str(out), '--quiet', '--workers', '1'])
    assert (out / 'train.txt').exists()
    code, err = run_main(main, [synthetic_root, '--out-dir', str(out),
                                '--split', '0:0:1', '--quiet'], capsys)
    assert code == 2 and '--force' in err
    main([synthetic_root, '--out-dir', str(out), '--split', '0:0:1',
          '--quiet', '--workers', '1', '--force'])
    assert not (out / 'train.txt').exists()
    assert not (out / 'val.txt').exists()
