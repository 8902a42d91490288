"""Datasets registered into mmpretrain's ``DATASETS``."""
from .annotated_image_folder import AnnotatedImageFolder

__all__ = ['AnnotatedImageFolder']
