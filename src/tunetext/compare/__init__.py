"""Every method on one dataset, learning curves, uncertainty, cost — and a report that answers which to ship."""

from tunetext.compare.comparison import run_comparison
from tunetext.compare.plan import BUDGETS, Budget

__all__ = ["BUDGETS", "Budget", "run_comparison"]
