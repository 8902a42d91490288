"""Issue 20 #7, #8, #10 and the annotation-line parser's property test."""
import importlib
import os
import os.path as osp
import resource
import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import load_tool
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from custom_modules.apis.inference import collect_images
from custom_modules.apis.preflight import read_annotations
from custom_modules.datasets import annotations
from custom_modules.datasets.annotated_image_folder import (
    AnnotatedImageFolder,
    escape_reason,
)
from custom_modules.datasets.annotations import DatasetError, make_annotations
from custom_modules.utils.errors import UserInputError
from custom_modules.utils.paths import ROOT

scan_module = importlib.import_module('custom_modules.datasets.annotations.scan')
write_module = importlib.import_module(
    'custom_modules.datasets.annotations.write')


def make_tree(root, classes=('a', 'b'), per_class=3, shade=0):
    for ci, c in enumerate(classes):
        os.makedirs(osp.join(root, c), exist_ok=True)
        for i in range(per_class):
            Image.new('RGB', (8, 8), (ci * 60, i * 40, 7 + shade)).save(
                osp.join(root, c, f'{i}.png'))
    return str(root)


def read(path):
    with open(path) as f:
        return f.read()


# --- 7: only regular files are read, and at most MAX_BYTES of each ---------

def test_fifo_and_dev_zero_are_skipped_not_read(tmp_path):
    src = make_tree(tmp_path / 'src')
    os.mkfifo(osp.join(src, 'a', 'x.jpg'))
    os.symlink('/dev/zero', osp.join(src, 'b', 'zero.jpg'))
    out = str(tmp_path / 'out')

    def limit_memory():  # before the fix /dev/zero was read until OOM
        resource.setrlimit(resource.RLIMIT_AS, (16 << 30, 16 << 30))

    proc = subprocess.run(
        [sys.executable, 'tools/dataset/make_annotations.py', src,
         '--out-dir', out, '--workers', '1', '--quiet',
         '--on-problem', 'exclude'], cwd=ROOT, text=True, capture_output=True,
        timeout=90, preexec_fn=limit_memory,
        env={**os.environ, 'PYTHONPATH': ROOT})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '[not_regular] a/x.jpg' in proc.stdout
    assert '[not_regular] b/zero.jpg' in proc.stdout
    assert 'x.jpg' not in read(osp.join(out, 'train.txt'))


def test_too_large_file_is_a_problem(tmp_path, monkeypatch):
    src = make_tree(tmp_path / 'src')
    with open(osp.join(src, 'a', 'big.jpg'), 'wb') as f:
        f.write(b'\0' * 2048)
    monkeypatch.setattr(scan_module, 'MAX_BYTES', 1024)
    with pytest.raises(DatasetError, match=r'\[too_large\] a/big.jpg'):
        make_annotations(src, str(tmp_path / 'out'), workers=1,
                         progress=False)
    assert not osp.exists(tmp_path / 'out' / 'classes.txt')


def test_collect_images_skips_a_fifo(tmp_path):
    make_tree(tmp_path)
    os.mkfifo(tmp_path / 'a' / 'x.jpg')
    found = collect_images([str(tmp_path)])
    assert len(found) == 6 and not any(p.endswith('x.jpg') for p in found)


# --- 8: workers capped at the CPU count ------------------------------------

def test_workers_capped_at_cpu_count(tmp_path, monkeypatch, capsys):
    src = make_tree(tmp_path / 'src')
    seen = []
    real = annotations.check_all
    monkeypatch.setattr(annotations, 'check_all', lambda s, p, w, pr: (
        seen.append(w), real(s, p, 1, pr))[1])
    main = load_tool('tools/dataset/make_annotations.py').main
    assert main([src, '--out-dir', str(tmp_path / 'out'), '--quiet',
                 '--workers', '100000']) == 0
    assert seen == [os.cpu_count()]
    assert f'--workers 100000: lowered to {os.cpu_count()}' in (
        capsys.readouterr().err)


# --- 10: nothing half-written ------------------------------------------------

def undecodable_file(folder):
    fd = os.open(osp.join(os.fsencode(folder), b'bad\xff.png'),
                 os.O_CREAT | os.O_WRONLY)
    with open(fd, 'wb') as f:
        Image.new('RGB', (8, 8), (1, 2, 3)).save(f, 'PNG')


def test_undecodable_name_is_bad_name_and_nothing_written(tmp_path):
    src = make_tree(tmp_path / 'src')
    undecodable_file(osp.join(src, 'a'))
    out = tmp_path / 'out'
    with pytest.raises(DatasetError, match=r'\[bad_name\] a/bad'):
        make_annotations(src, str(out), workers=1, progress=False)
    assert not out.exists() or sorted(os.listdir(out)) == []
    report = make_annotations(src, str(out), workers=1, progress=False,
                              on_problem='exclude')
    assert [k for k, _, _ in report.problems] == ['bad_name']
    assert 'bad' not in read(out / 'train.txt') + read(out / 'val.txt')


def test_forced_rewrite_that_crashes_keeps_the_old_set(tmp_path, monkeypatch):
    src = make_tree(tmp_path / 'src')
    out = tmp_path / 'out'
    make_annotations(src, str(out), workers=1, progress=False)
    before = {f: read(out / f) for f in
              ('classes.txt', 'train.txt', 'val.txt', 'report.json')}
    make_tree(src, classes=('c',), shade=100)
    real = write_module.write_text

    def crash_on_train(path, text):
        if osp.basename(path) == 'train.txt':
            raise OSError('injected')
        real(path, text)
    monkeypatch.setattr(write_module, 'write_text', crash_on_train)
    with pytest.raises(OSError, match='injected'):
        make_annotations(src, str(out), workers=1, progress=False, force=True)
    assert {f: read(out / f) for f in before} == before
    assert sorted(os.listdir(out)) == sorted([*before, 'images'])
    monkeypatch.undo()
    make_annotations(src, str(out), workers=1, progress=False, force=True)
    assert read(out / 'classes.txt') == 'a\nb\nc\n'
    assert ' 2\n' in read(out / 'train.txt')


# --- the annotation-line parser: a label or a named UserInputError ----------

line_text = st.text(st.characters(blacklist_categories=('Cs',),
                                  blacklist_characters='\n\r\x0b\x0c\x1c'
                                  '\x1d\x1e\x85\u2028\u2029'), max_size=40)
lines = st.one_of(line_text, st.builds(
    lambda p, n: f'{p} {n}', line_text,
    st.one_of(st.integers(-5, 10**6).map(str), line_text)))


@settings(max_examples=150, deadline=None)
@given(line=lines)
@example(line='x.jpg \u00b2')  # '²'.isdigit() but int('²') fails
@example(line='x.jpg --1')
def test_annotation_line_parses_or_names_file_and_line(tmp_path_factory, line):
    folder = tmp_path_factory.mktemp('ann')
    ann = str(folder / 'train.txt')
    with open(ann, 'w', encoding='utf-8') as f:
        f.write('ok.jpg 0\n' + line + '\n')
    try:
        rows = list(read_annotations(ann))
    except UserInputError as exc:
        assert f'{ann}:2' in str(exc)
    else:
        assert all(isinstance(label, int) for _, _, label in rows)
    dataset = SimpleNamespace(ann_file=ann, with_label=True,
                              data_root=str(folder), img_prefix=str(folder))
    try:
        items = AnnotatedImageFolder.load_data_list(dataset)
    except UserInputError as exc:
        assert f'{ann}:2' in str(exc)
    else:
        for item in items:
            assert isinstance(item['gt_label'], int)
            rel = osp.relpath(item['img_path'], str(folder))
            assert escape_reason(rel) is None
