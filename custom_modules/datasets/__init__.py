"""Datasets and transforms registered into mmpretrain's ``DATASETS`` and
``TRANSFORMS``."""
from .annotated_image_folder import AnnotatedImageFolder
from .transforms import SHIFTS, RandomDegrade

__all__ = ['AnnotatedImageFolder', 'RandomDegrade', 'SHIFTS']
