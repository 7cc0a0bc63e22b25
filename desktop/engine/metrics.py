"""Metric formulas (issue #5). Placeholder module: the engine work fills it in."""

from __future__ import annotations
