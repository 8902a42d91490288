"""tools/infer.py on a folder with a corrupt JPEG among good ones: the bad
file is reported by name and the good ones are still classified."""
import csv
import json
import os.path as osp
import shutil

from conftest import TINY_CONFIG, load_tool

INFER = load_tool('tools/infer.py')


def test_corrupt_jpeg_is_reported_and_the_rest_answered(
        tiny_checkpoint, annotated_root, tmp_path, capsys):
    folder = tmp_path / 'photos'
    shutil.copytree(osp.join(annotated_root, 'images', 'rose'), folder)
    good = sorted(p.name for p in folder.iterdir())[:5]
    for p in folder.iterdir():
        if p.name not in good:
            p.unlink()
    bad = folder / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    out = str(tmp_path / 'preds.json')
    results = INFER.main([TINY_CONFIG, tiny_checkpoint, str(folder),
                              '--device', 'cpu', '--batch-size', '2',
                              '--out', out])
    err = capsys.readouterr().err
    assert f'skipped {bad}: cannot decode image' in err
    with open(out) as f:
        saved = json.load(f)
    assert saved == results
    by_name = {osp.basename(r['path']): r for r in saved}
    assert sorted(by_name) == sorted(good + ['broken.jpg'])
    assert by_name['broken.jpg']['predictions'] == []
    assert all(len(by_name[n]['predictions']) == 3 for n in good)

    csv_out = str(tmp_path / 'preds.csv')
    INFER.main([TINY_CONFIG, tiny_checkpoint, str(bad),
                    str(folder / good[0]),
                    '--device', 'cpu', '--out', csv_out])
    with open(csv_out) as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == 'error' and len(rows) == 3
    assert rows[1][0] == str(bad) and 'cannot decode' in rows[1][-1]
