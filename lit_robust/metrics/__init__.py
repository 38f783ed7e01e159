"""torchmetrics Metrics of robustness evaluation; counts and sums reduced with "sum" so DDP sync is exact."""

from lit_robust.metrics.agreement import InterraterAgreement
from lit_robust.metrics.rho import Rho, relative_l2
from lit_robust.metrics.robust_accuracy import RobustAccuracy

__all__ = ["InterraterAgreement", "Rho", "RobustAccuracy", "relative_l2"]
