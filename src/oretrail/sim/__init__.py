"""The national simulator: all six feeds of SPEC.md §1 for a plausible economy, with labelled violations."""

from oretrail.sim.simulate import RULES, SimSummary, simulate

__all__ = ["RULES", "SimSummary", "simulate"]
