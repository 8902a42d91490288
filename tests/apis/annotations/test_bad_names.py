"""File and folder names with a newline or another control character are
refused by name (or left out and listed with --on-problem exclude): each
annotation line holds one path, so such a name would write a bogus line."""
import shutil

import pytest

from custom_modules.datasets.annotations import DatasetError, make_annotations
from custom_modules.datasets.synthetic_flowers import make_dataset


@pytest.fixture
def named(tmp_path):
    root = tmp_path / 'flowers'
    make_dataset(str(root), per_class=12, size=24, seed=5)
    rose = root / 'rose'
    first = sorted(rose.iterdir())[0]
    shutil.copy(first, rose / 'two\nlines.jpg')
    shutil.copy(first, rose / 'tab\there.jpg')
    (root / 'tulip').rename(root / 'tu\rlip')
    return root


def run(src, out, **kwargs):
    return make_annotations(str(src), str(out), progress=False, workers=1,
                            **kwargs)


def test_control_characters_stop_with_the_names(named, tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(DatasetError) as err:
        run(named, out)
    text = str(err.value)
    assert '[bad_name] rose/two\\nlines.jpg: name has U+000A' in text
    assert '[bad_name] rose/tab\\there.jpg: name has U+0009' in text
    assert '[bad_name] tu\\rlip: class folder name has U+000D' in text
    assert 'rename it' in text
    assert not out.exists()


def test_exclude_leaves_them_out_and_lists_them(named, tmp_path):
    out = tmp_path / 'out'
    report = run(named, out, on_problem='exclude')
    assert {(k, p) for k, p, _ in report.problems} == {
        ('bad_name', 'rose/two\\nlines.jpg'), ('bad_name', 'rose/tab\\there.jpg'),
        ('bad_name', 'tu\\rlip')}
    assert (out / 'classes.txt').read_text().split() == [
        'daisy', 'dandelion', 'rose', 'sunflower']
    lines = [line for split in ('train', 'val')
             for line in (out / f'{split}.txt').read_text().splitlines()]
    assert len(lines) == 4 * 12  # one line per good image, nothing else
    assert all(line.rsplit(' ', 1)[1].isdigit() for line in lines)
