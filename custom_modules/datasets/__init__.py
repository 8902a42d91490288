"""Datasets and transforms registered into mmpretrain's ``DATASETS`` and
``TRANSFORMS``."""
from .annotated_image_folder import AnnotatedImageFolder
from .class_balanced_sampler import ClassBalancedSampler
from .transforms import SHIFTS, RandomDegrade

__all__ = ['AnnotatedImageFolder', 'ClassBalancedSampler', 'RandomDegrade',
           'SHIFTS']
