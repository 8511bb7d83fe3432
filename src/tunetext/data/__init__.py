"""Labeled text in: files of any common format, folders with given splits, and a catalog of offline datasets."""

from tunetext.data.catalog import DatasetInfo, fetch, get_info, list_datasets, load_catalog
from tunetext.data.dataset import DatasetSplits, LabeledTexts, Text
from tunetext.data.loading import check_known_labels, find_text_column, iter_table_chunks, load_labeled, read_table
from tunetext.data.splits import load_splits, stratified_holdout

__all__ = [
    "DatasetInfo",
    "DatasetSplits",
    "LabeledTexts",
    "Text",
    "check_known_labels",
    "fetch",
    "find_text_column",
    "get_info",
    "iter_table_chunks",
    "list_datasets",
    "load_catalog",
    "load_labeled",
    "load_splits",
    "read_table",
    "stratified_holdout",
]
