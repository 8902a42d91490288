"""Where the project and the shared photos are: the one place that knows."""
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The real flower photos beside a checkout (`../shared`), read-only.
SHARED_PHOTOS = osp.join(ROOT, '..', 'shared', 'datasets', 'flower_dataset')
