"""Self-contained HTML pages from the Jinja2 templates in ``templates/``
(``data:`` images, inline style, autoescape on)."""
import base64
import html
import io
import pathlib
import re

import jinja2
from markupsafe import Markup
from PIL import Image

MAX_IMAGE_WIDTH = 1400
JPEG_QUALITY = 85


def png_data_uri(png):
    """``data:image/png;base64,...`` for PNG bytes, a PNG file's path or a
    matplotlib figure (rendered in memory, never written to disk)."""
    if isinstance(png, str):
        png = pathlib.Path(png).read_bytes()
    elif not isinstance(png, bytes):
        buffer = io.BytesIO()
        png.savefig(buffer, format='png', dpi=100, bbox_inches='tight')
        png = buffer.getvalue()
    return 'data:image/png;base64,' + base64.b64encode(png).decode('ascii')


def page_image_uri(png):
    """:func:`png_data_uri` at most :data:`MAX_IMAGE_WIDTH` wide, as a JPEG
    when under half the PNG's size (photos; plots stay PNG)."""
    uri = png_data_uri(png)
    data = base64.b64decode(uri.partition(',')[2])
    with Image.open(io.BytesIO(data)) as image:
        if image.width > MAX_IMAGE_WIDTH:
            image = image.resize((MAX_IMAGE_WIDTH, round(
                image.height * MAX_IMAGE_WIDTH / image.width)),
                Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            image.save(buffer, format='PNG', optimize=True)
            data = buffer.getvalue()
            uri = png_data_uri(data)
        buffer = io.BytesIO()
        image.convert('RGB').save(buffer, format='JPEG', quality=JPEG_QUALITY)
    if len(buffer.getvalue()) < len(data) / 2:
        return 'data:image/jpeg;base64,' + base64.b64encode(
            buffer.getvalue()).decode('ascii')
    return uri


def inline(text):
    """``text`` escaped, with Markdown's ``**bold**`` and ```code```."""
    text = re.sub(r'\*\*(.+?)\*\*', r'<b>\1</b>', html.escape(text))
    return Markup(re.sub(r'`(.+?)`', r'<code>\1</code>', text))


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader('custom_modules.utils'), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True)
ENV.globals.update(png_data_uri=png_data_uri, page_image_uri=page_image_uri,
                   inline=inline)
PARTS = ENV.get_template('parts.html.j2').module


def markdown_html(text):
    """The Markdown this project writes (results.md, per_class.md) as HTML:
    headings, pipe tables, ``-`` lists, paragraphs, ``**bold**``, code."""
    blocks, previous = [], None  # [(tag, items)]
    for line in text.splitlines():
        heading = re.match(r'(#{1,4}) (.*)', line)
        kind = ('h' if heading else 'table' if line.startswith('|') else
                'ul' if line.startswith('- ') else 'p' if line.strip() else
                None)
        if previous == 'ul' and line.startswith('  ') and line.strip():
            blocks[-1][1][-1] += ' ' + line.strip()  # a wrapped list item
            continue
        if heading:  # one level down: the page owns <h1>
            blocks.append((f'h{min(len(heading[1]) + 1, 4)}', [heading[2]]))
        elif kind and not re.fullmatch(r'\|[\s|:-]+\|', line):
            if kind != previous:
                blocks.append((kind, []))
            blocks[-1][1].append(
                [c.strip() for c in line.strip().strip('|').split('|')]
                if kind == 'table' else line[2:] if kind == 'ul' else line)
        previous = kind
    return PARTS.markdown(blocks)


def render(template, absent=None, **context):
    """The page ``template`` filled in with ``context``; each
    ``missing(what, command)`` note it shows is appended to ``absent``."""
    def missing(what, command=None):
        if absent is not None:
            absent.append((what, command))
        return PARTS.missing_note(what, command)

    return ENV.get_template(template).render(missing=missing, **context)
