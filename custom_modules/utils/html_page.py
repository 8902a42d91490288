"""Self-contained HTML pages from the Jinja2 templates in ``templates/``
(``data:`` images, inline style, autoescape on)."""
import base64
import io
import pathlib
import re

import jinja2
from markdown_it import MarkdownIt
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
            uri = png_data_uri(data := buffer.getvalue())
        buffer = io.BytesIO()
        image.convert('RGB').save(buffer, format='JPEG', quality=JPEG_QUALITY)
    jpeg = buffer.getvalue()
    if len(jpeg) < len(data) / 2:
        return 'data:image/jpeg;base64,' + base64.b64encode(jpeg).decode('ascii')
    return uri


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader('custom_modules.utils'), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True)
ENV.globals.update(png_data_uri=png_data_uri, page_image_uri=page_image_uri)
PARTS = ENV.get_template('parts.html.j2').module
MARKDOWN = MarkdownIt('commonmark', {'html': False}).enable('table')


def markdown_html(text):
    """Markdown (results.md, per_class.md) as HTML by markdown-it, raw HTML
    and quotes escaped, headings one level down: the page owns ``<h1>``."""
    html = MARKDOWN.render(text).replace("'", '&#x27;')
    return Markup(re.sub(r'<(/?)h([1-3])>', lambda m: f'<{m[1]}h{int(m[2]) + 1}>',
                         html))


def render(template, absent=None, **context):
    """The page ``template`` filled in with ``context``; each
    ``missing(what, command)`` note it shows is appended to ``absent``."""
    def missing(what, command=None):
        if absent is not None:
            absent.append((what, command))
        return PARTS.missing_note(what, command)

    return ENV.get_template(template).render(missing=missing, **context)
