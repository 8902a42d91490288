"""Tools print what a person needs: mmengine's environment, config and hook
tables go to the log file only, as in train.py and test.py."""
from conftest import TINY_CONFIG, load_tool, run_runner

CALIBRATE = load_tool('tools/analysis/calibrate.py')


def test_calibrate_prints_a_short_summary(tiny_checkpoint, annotated_root,
                                          tmp_path, capsys):
    """Before: 331 lines (mmengine's Runner at INFO on the console)."""
    run_runner(CALIBRATE.main, [
        TINY_CONFIG, tiny_checkpoint, '--data-root', annotated_root,
        '--work-dir', str(tmp_path / 'cal'), '--no-ood'])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) < 30, out
    assert 'Environment' not in out and 'temperature' in out
    # it evaluates the val split, and says so (it printed "test  ...")
    assert any(line.startswith('val  accuracy/top1') for line in lines)
    assert not any(line.startswith('test  ') for line in lines), out
