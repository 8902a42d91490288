"""Pieces of a self-contained HTML page: every image is a ``data:`` URI and
the style sheet is inline, so the file opens anywhere, offline, on its own.

Text from files (configs, Markdown tables, class names) is always escaped.
"""
import base64
import html
import io
import re

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto;
       max-width: 1150px; padding: 0 16px; color: #222; background: #fff; }
h1 { border-bottom: 3px solid #2a6f97; padding-bottom: 6px; }
h2 { color: #2a6f97; border-bottom: 1px solid #ccc; margin-top: 32px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eef4f8; }
img { max-width: 100%; border: 1px solid #ddd; margin: 6px 0; }
img.half { max-width: 49%; vertical-align: top; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #2a6f97; border-radius: 6px; padding: 8px 14px;
        min-width: 130px; }
.card b { display: block; font-size: 22px; color: #2a6f97; }
.missing { color: #9a3412; background: #fff7ed; padding: 6px 10px;
           border-left: 4px solid #ea580c; }
.missing code { white-space: pre-wrap; }
"""


def esc(text):
    return html.escape(str(text), quote=True)


def png_data_uri(data):
    """``data:image/png;base64,...`` for PNG bytes."""
    return 'data:image/png;base64,' + base64.b64encode(data).decode('ascii')


def figure_png(fig, dpi=100):
    """A matplotlib figure as PNG bytes (never written to disk)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=dpi, bbox_inches='tight')
    return buffer.getvalue()


def image(data, alt, half=False):
    """``half``: at most half the page wide (two side by side)."""
    size = ' class="half"' if half else ''
    return f'<img src="{png_data_uri(data)}" alt="{esc(alt)}"{size}>'


def image_file(path, alt, half=False):
    with open(path, 'rb') as f:
        return image(f.read(), alt, half)


def missing(what, command=None):
    """A visible note: this part is absent, and the command that makes it."""
    how = (f' Make it with: <code>{esc(command)}</code>' if command else '')
    return f'<p class="missing">{esc(what)}.{how}</p>'


def table(header, rows):
    head = ''.join(f'<th>{esc(h)}</th>' for h in header)
    body = ''.join('<tr>' + ''.join(f'<td>{esc(c)}</td>' for c in row) +
                   '</tr>' for row in rows)
    return f'<table><tr>{head}</tr>{body}</table>'


def cards(items):
    """Key numbers, large: ``[(label, value text)]``."""
    return '<div class="cards">' + ''.join(
        f'<div class="card"><b>{esc(value)}</b>{esc(label)}</div>'
        for label, value in items) + '</div>'


def _inline(text):
    text = esc(text)
    text = re.sub(r'\*\*(.+?)\*\*', r'<b>\1</b>', text)
    return re.sub(r'`(.+?)`', r'<code>\1</code>', text)


def _cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def _block_html(kind, block):
    if kind == 'table':
        header, *rows = [_cells(line) for line in block
                         if not re.fullmatch(r'\|[\s|:-]+\|', line)]
        return ('<table><tr>' + ''.join(f'<th>{_inline(h)}</th>'
                                        for h in header) + '</tr>' +
                ''.join('<tr>' + ''.join(f'<td>{_inline(c)}</td>'
                                         for c in row) + '</tr>'
                        for row in rows) + '</table>')
    if kind == 'list':
        return '<ul>' + ''.join(f'<li>{_inline(item)}</li>'
                                for item in block) + '</ul>'
    return f'<p>{_inline(" ".join(block))}</p>'


def markdown_html(text):
    """The Markdown this project writes (results.md, per_class.md):
    headings, pipe tables, ``-`` lists, paragraphs, ``**bold**``, code."""
    out, block, kind = [], [], None
    for line in text.splitlines() + ['']:
        heading = re.match(r'(#{1,4}) (.*)', line)
        if kind == 'list' and line.startswith('  ') and line.strip():
            block[-1] += ' ' + line.strip()  # a wrapped list item
            continue
        new = (None if heading or not line.strip() else
               'table' if line.startswith('|') else
               'list' if line.startswith('- ') else 'para')
        if block and new != kind:
            out.append(_block_html(kind, block))
            block = []
        kind = new
        if heading:
            level = min(len(heading.group(1)) + 1, 4)  # the page owns <h1>
            out.append(f'<h{level}>{_inline(heading.group(2))}</h{level}>')
        elif new:
            block.append(line[2:] if new == 'list' else line)
    return '\n'.join(out)


def page(title, body):
    """The whole document: inline style, no script, no external resource."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{esc(title)}</title><style>{STYLE}</style></head>\n'
            f'<body>\n<h1>{esc(title)}</h1>\n{body}\n</body></html>\n')
