"""The spec language: one Pydantic model per kind."""

from __future__ import annotations

from charter.core.spec.base import Governed, StrictModel
from charter.core.spec.contract import Contract
from charter.core.spec.dataset import Column, DatasetBase, Reference, SourceSpec
from charter.core.spec.environment import Environment
from charter.core.spec.metric import Measure, Metric, MetricInput, SavedQuery
from charter.core.spec.project import ProjectSpec, Warehouse
from charter.core.spec.quality import DIMENSIONS, QualitySuiteBase, Rule

__all__ = [
    "DIMENSIONS",
    "Column",
    "Contract",
    "DatasetBase",
    "Environment",
    "Governed",
    "Measure",
    "Metric",
    "MetricInput",
    "ProjectSpec",
    "QualitySuiteBase",
    "Reference",
    "Rule",
    "SavedQuery",
    "SourceSpec",
    "StrictModel",
    "Warehouse",
]
