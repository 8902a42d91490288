"""Every relative link and image in README.md and docs/*.md resolves: the
file exists and, for ``page.md#anchor``, the page has that heading."""
import glob
import os.path as osp
import re

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = [osp.join(ROOT, 'README.md')] + sorted(
    glob.glob(osp.join(ROOT, 'docs', '*.md')))
LINK = re.compile(r'\]\(([^)\s]+)\)|<img [^>]*src="([^"]+)"')
FENCE = re.compile(r'^\s*(```|~~~)')


def prose_lines(path):
    """The lines of a Markdown file outside fenced code blocks."""
    in_code = False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if FENCE.match(line):
                in_code = not in_code
            elif not in_code:
                yield line


def anchors(path):
    """GitHub's heading anchors of a Markdown file."""
    seen = {}
    for line in prose_lines(path):
        match = re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
        if not match:
            continue
        slug = re.sub(r'[^\w\- ]', '', match.group(1).lower()).replace(' ', '-')
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        yield slug if count == 0 else f'{slug}-{count}'


def relative_links(path):
    for line in prose_lines(path):
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            if not re.match(r'[a-z]+:', target):
                yield target


@pytest.mark.parametrize('index, prefix', [('docs/README.md', ''),
                                           ('README.md', 'docs/')])
def test_indexes_list_every_docs_page(index, prefix):
    with open(osp.join(ROOT, index), encoding='utf-8') as f:
        text = f.read()
    missing = [osp.basename(page) for page in PAGES[1:]
               if f'({prefix}{osp.basename(page)})' not in text
               and not (index == 'docs/README.md'
                        and osp.basename(page) == 'README.md')]
    assert not missing, f'{index} does not link {missing}'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: osp.relpath(p, ROOT))
def test_relative_links_resolve(page):
    broken = []
    for target in relative_links(page):
        file, _, anchor = target.partition('#')
        dest = osp.normpath(osp.join(osp.dirname(page), file)) if file else page
        if not osp.exists(dest):
            broken.append(f'{target}: no such file')
        elif anchor and dest.endswith('.md') and anchor not in set(anchors(dest)):
            broken.append(f'{target}: no heading with that anchor')
    assert not broken, f'{osp.relpath(page, ROOT)}: ' + '; '.join(broken)
