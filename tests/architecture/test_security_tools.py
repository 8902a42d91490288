"""The security linters stay clean (issue 20, "tools to keep it that way"):
bandit finds no high-severity issue in custom_modules or tools (each
exception is a ``# nosec`` with its reason), and pip-audit finds no known
vulnerability in the installed packages requirements/runtime.txt names and
those they depend on. Offline, pip-audit's database is out of reach: that is
a skip naming why, not a failure."""
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from custom_modules.apis.distributed import export_slurm_env
from custom_modules.utils.paths import ROOT


def tool(name):
    """The console script ``name`` of this Python's environment."""
    path = osp.join(osp.dirname(sys.executable), name)
    if not osp.isfile(path):
        pytest.skip(f'{name} is not installed (pip install -r '
                    'requirements/tests.txt)')
    return path


def test_bandit_finds_no_high_severity_issue():
    proc = subprocess.run(
        [tool('bandit'), '-r', 'custom_modules', 'tools', '-f', 'json', '-q'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)
    high = [f'{r["filename"]}:{r["line_number"]} {r["test_id"]} '
            f'{r["issue_text"]}' for r in report['results']
            if r['issue_severity'] == 'HIGH']
    assert not high, '\n'.join(high)
    assert report['metrics']['_totals']['loc'] > 1000  # it scanned the code


def installed_closure(requirements):
    """``name==version`` of each installed package that ``requirements``
    names, and of each one those depend on."""
    with open(requirements) as f:
        todo = [Requirement(line) for line in (
            re.sub('#.*', '', line).strip() for line in f) if line]
    found = {}
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:  # not for this platform
            continue
        found[name] = f'{name}=={dist.version}'
        todo += [r for r in map(Requirement, dist.requires or [])
                 if not r.marker or r.marker.evaluate({'extra': ''})]
    return sorted(found.values())


def test_pip_audit_finds_no_known_vulnerability(tmp_path):
    """The installed versions, pinned: no resolution in a fresh virtual
    environment (which took ~10 CPU-seconds)."""
    packages = installed_closure(osp.join(ROOT, 'requirements/runtime.txt'))
    assert {'torch', 'mmpretrain', 'numpy'} <= {p.split('==')[0]
                                                for p in packages}
    pinned = tmp_path / 'installed.txt'
    pinned.write_text('\n'.join(packages) + '\n')
    proc = subprocess.run(
        [tool('pip-audit'), '-r', str(pinned), '--no-deps', '--disable-pip',
         '--format', 'json', '--progress-spinner', 'off', '--timeout', '20'],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    try:
        dependencies = json.loads(proc.stdout)['dependencies']
    except (ValueError, KeyError):
        # pip-audit did not get as far as a report.
        pytest.skip('pip-audit could not run offline: ' + (
            proc.stderr.strip().splitlines() or ['?'])[-1][:300])
    audited = [d for d in dependencies if 'skip_reason' not in d]
    if not audited:
        # Each "not found on PyPI": the vulnerability database is out of reach.
        pytest.skip(f'pip-audit reached no vulnerability database (all '
                    f'{len(dependencies)} packages: '
                    f'{dependencies[0]["skip_reason"] if dependencies else "-"})')
    vulnerable = [f'{d["name"]} {d["version"]}: '
                  + ', '.join(v['id'] for v in d['vulns'])
                  for d in audited if d.get('vulns')]
    assert not vulnerable, '\n'.join(vulnerable)


def test_slurm_node_list_never_reaches_a_shell(tmp_path, monkeypatch):
    """export_slurm_env passes SLURM_NODELIST to scontrol as one argument:
    shell syntax in it runs nothing."""
    marker = tmp_path / 'MARKER'
    scontrol = tmp_path / 'scontrol'
    scontrol.write_text('#!/bin/sh\necho node7\necho node8\n')
    scontrol.chmod(0o755)
    monkeypatch.setenv('PATH', f'{tmp_path}{os.pathsep}{os.environ["PATH"]}')
    for key, value in dict(SLURM_PROCID='0', SLURM_NTASKS='2',
                           SLURM_NODELIST=f'node[7-8]; touch {marker}'
                           ).items():
        monkeypatch.setenv(key, value)
    for key in ('MASTER_ADDR', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK',
                'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    assert shutil.which('scontrol') == str(scontrol)
    export_slurm_env()
    assert os.environ['MASTER_ADDR'] == 'node7'
    assert not marker.exists()
