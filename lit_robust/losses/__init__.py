"""Loss terms that defenses add to their training loss (no Lightning imports)."""

from lit_robust.losses.triplet import TripletRegularizer, select_negatives, triplet_regularization

__all__ = ["TripletRegularizer", "select_negatives", "triplet_regularization"]
