"""Property-based (hypothesis): any mutation of a valid ONNX metadata block is
either accepted, and then usable, or refused with ModelFileError naming the
field; never another exception (issue 20: 4)."""
import json
from types import SimpleNamespace

import numpy as np
from deploy_fixtures import TINY_META
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_modules.apis.deploy.onnx_classifier import (
    ModelFileError,
    OnnxClassifier,
    validate_metadata,
)

FIELDS = ('classes', 'preprocess', 'temperature', 'threshold')
NESTED = ('resize_edge', 'resize_edge.scale', 'resize_edge.edge', 'crop_size')

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(
        st.text(max_size=12), inner, max_size=6),
    max_leaves=20)
numbers = (st.floats().map(repr) | st.integers().map(str)
           | st.sampled_from(['inf', '-inf', 'nan', '1e-300', '', ' 2 ']))
DELETE = object()


@st.composite
def mutations(draw):
    """TINY_META with one to three fields replaced, deleted or damaged."""
    meta = dict(TINY_META)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(['text', 'json', 'number', 'delete',
                                     'nested', 'class']))
        field = draw(st.sampled_from(FIELDS))
        if kind == 'text':
            meta[field] = draw(st.text(max_size=40))
        elif kind == 'json':
            meta[field] = json.dumps(draw(json_values))
        elif kind == 'number':
            meta[field] = draw(numbers)
        elif kind == 'delete':
            meta.pop(field, None)
        elif 'preprocess' not in meta or 'classes' not in meta:
            continue
        elif kind == 'nested':
            meta['preprocess'] = nested(meta.get('preprocess'), draw(
                st.sampled_from(NESTED)), draw(json_values | st.just(DELETE)))
        else:
            meta['classes'] = damaged_classes(meta.get('classes'), draw)
    return meta


def nested(preprocess, path, value):
    try:
        block = json.loads(preprocess)
        *parents, last = path.split('.')
        for key in parents:
            block = block[key]
        if value is DELETE:
            del block[last]
        else:
            block[last] = value
    except (TypeError, ValueError, KeyError, IndexError):
        return preprocess
    return json.dumps(block)


def damaged_classes(classes, draw):
    try:
        names = json.loads(classes)
        names[draw(st.integers(0, len(names)))] = draw(json_values)
    except (TypeError, ValueError, KeyError, IndexError):
        return classes
    return json.dumps(names)


@settings(max_examples=400, deadline=None, database=None)
@given(mutations())
def test_any_mutation_validates_or_names_the_field(meta):
    try:
        classes, preprocess = validate_metadata(meta, 5, 32)
    except ModelFileError as err:
        assert any(f'metadata {f}' in str(err) for f in FIELDS), str(err)
        return
    # Accepted: then it works as the classifier uses it.
    assert len(classes) == 5 and all(isinstance(c, str) for c in classes)
    fake = SimpleNamespace(preprocess=preprocess)
    for shape in [(1, 1, 3), (40, 90, 3), (90, 40, 3)]:
        batch = OnnxClassifier.prepare(fake, np.zeros(shape, np.uint8))
        assert batch.shape == (3, 32, 32)
    for field in ('temperature', 'threshold'):
        if meta.get(field):
            assert np.isfinite(float(meta[field]))
