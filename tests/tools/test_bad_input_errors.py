"""Bad input that used to give a raw traceback (or was silently accepted)
now stops with a named error, before a run folder is created."""
import pytest
from conftest import TINY_CONFIG, load_tool, run_main

annotate = load_tool('tools/dataset/make_annotations.py').main

TRAIN = load_tool('tools/train.py')


def train(capsys, *argv):
    return run_main(TRAIN.main, [TINY_CONFIG, '--from-scratch', *argv],
                    capsys)


def test_config_syntax_error_names_the_file(tmp_path, capsys):
    config = tmp_path / 'broken.py'
    config.write_text("_base_ = []\nmodel = dict(type='X'\nfoo = 1\n")
    code, err = run_main(TRAIN.main, [str(config)], capsys)
    assert code == 2
    assert f'config {config} has a syntax error' in err and 'line ' in err


@pytest.mark.parametrize('option, message', [
    ('model.backbone.dept=34',
     "model.backbone (type ResNet) has no 'dept'"),
    ('model.bakbone.depth=34', "model has no 'bakbone'"),
    ('train_cfg.max_epoch=3', 'Did you mean: max_epochs'),
    ('load_frm=x.pth', 'Did you mean: load_from?'),
    ('train_pipeline.checkpoint=1', 'train_pipeline is a list'),
])
def test_mistyped_cfg_options_stop_before_the_run_folder(
        option, message, annotated_root, tmp_path, capsys):
    work_dir = tmp_path / 'run'
    code, err = train(capsys, '--data-root', annotated_root, '--work-dir',
                      str(work_dir), '--cfg-options', option)
    assert code == 2 and message in err
    assert f'--cfg-options {option.split("=")[0]}:' in err
    assert not work_dir.exists()


def test_resume_with_nothing_to_resume_says_so(annotated_root, tmp_path,
                                               capsys):
    code, err = train(capsys, '--data-root', annotated_root, '--work-dir',
                      str(tmp_path), '--resume')
    assert code == 2 and f'nothing to resume in {tmp_path}' in err


@pytest.mark.parametrize('extra, message', [
    (['--split', 'nan:1'], "--split 'nan:1'"),
    (['--split', '8:inf'], "--split '8:inf'"),
    (['--workers', '-3'], '--workers -3'),
    (['--min-per-class', '-5'], '--min-per-class -5'),
])
def test_annotation_numbers_are_checked(extra, message, synthetic_root,
                                        tmp_path, capsys):
    code, err = run_main(annotate, [synthetic_root, '--out-dir',
                                    str(tmp_path / 'out'), *extra], capsys)
    assert code == 2 and message in err
    assert not (tmp_path / 'out').exists()


def test_unwritable_out_dir_is_named(synthetic_root, tmp_path, capsys):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    code, err = run_main(annotate, [synthetic_root, '--out-dir',
                                    str(blocker / 'out')], capsys)
    assert code == 2 and f'{blocker} is a file, not a folder' in err
