"""Datasets, samplers and transforms registered into mmpretrain."""
from .annotated_image_folder import AnnotatedImageFolder
from .class_balanced_sampler import ClassBalancedSampler
from .transforms import SHIFTS, RandomDegrade

__all__ = ['AnnotatedImageFolder', 'ClassBalancedSampler', 'RandomDegrade',
           'SHIFTS']
