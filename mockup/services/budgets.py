"""Monthly budgets: a request whose estimated cost would take the user past their budget is refused
before anything is stored or queued (402 BUDGET_EXCEEDED), as is one from a user whose files already
fill their storage quota (409 CONFLICT, services/storage_usage.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..engines import pricing
from ..errors import BudgetExceeded
from . import accounts, storage_usage, usage

# Float sums of prices are not exact; a request that fits to the cent fits.
TOLERANCE_USD = 0.000_05


def ensure_within_budget(user_id: str, estimated_cost_usd: float, now: datetime | None = None) -> None:
    """Every new generation, edit and retry passes here before it stores or queues anything."""
    storage_usage.ensure_within_quota(user_id)
    budget = accounts.get_user(user_id).monthly_budget_usd
    if budget is None or estimated_cost_usd <= 0:
        return
    spent = usage.spent(user_id, now)
    if spent + estimated_cost_usd <= budget + TOLERANCE_USD:
        return
    left = max(budget - spent, 0.0)
    raise BudgetExceeded(
        f"This request would cost about ${estimated_cost_usd:.2f}, but only ${left:.2f} of your monthly "
        f"budget of ${budget:.2f} is left. Ask an administrator to raise it, or wait for next month.",
        fields={"budget_usd": budget, "spent_usd": round(spent, 4)},
    )


def checked_estimate(user_id: str, engine: str, input_images: int, candidates: int = pricing.DEFAULT_CANDIDATES,
                     now: datetime | None = None) -> float:
    """The estimated cost of a request of `candidates` calls each sending `input_images` images, once it
    is known to fit the budget."""
    estimated = pricing.estimate(engine, candidates=candidates, input_images=input_images)
    ensure_within_budget(user_id, estimated, now)
    return estimated


@dataclass(frozen=True)
class Quote:
    """What the generate form shows before a request is sent."""

    estimated_usd: float  # the default request: an IP change (source and character), DEFAULT_CANDIDATES
    rates: dict[str, float]
    candidates: int
    left_usd: float | None  # what is left of the monthly budget; None without one


def quote(user_id: str, engine: str, now: datetime | None = None) -> Quote:
    budget = accounts.get_user(user_id).monthly_budget_usd
    left = None if budget is None else max(budget - usage.spent(user_id, now), 0.0)
    estimated = pricing.estimate(engine, candidates=pricing.DEFAULT_CANDIDATES, input_images=2)
    return Quote(estimated, pricing.rates(engine), pricing.DEFAULT_CANDIDATES, left)
