"""Scaling out: batch functions for Ray Data and ``datasets.map``, and the worker
processes of ``convert --workers``."""

from .batches import convert_batch, pairs_batch, record_formats, records_of, validate_batch

__all__ = ["convert_batch", "pairs_batch", "record_formats", "records_of", "validate_batch"]
