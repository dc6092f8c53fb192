"""What the Polymarket twin serves beside the embedded exchange's own settings (``SimConfig``).

The chain and neg-risk flag (which exchange verifies signatures), the account, the dead-man
switch's window, the restart's post-only period, the per-signer rate-limit buckets, how a
refused single order is answered, the GTD horizon and the page size of the listings.  The
market itself (tick, minimum size, balances, fees, how trades settle: ``SimConfig.settlement``)
is the embedded exchange's.  Defaults are the venue's where it states them (reference 2-5).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PmTwinSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: int = Field(default=137)  # 137 Polygon or 80002 Amoy (the official client's)
    neg_risk: bool = False  # which V2 exchange signs: standard or neg-risk
    # The account (the orders' maker/funder); None: the maker of the first order placed.
    account: str | None = None
    heartbeat_timeout_s: float = Field(default=10.0, gt=0)  # the dead-man switch's window
    post_only_after_restart_s: float = Field(default=120.0, ge=0)
    # Per-signer token buckets (reference 4, Standard tier): tokens a second and burst.
    order_rate: float = Field(default=40.0, gt=0)
    order_burst: float = Field(default=60.0, gt=0)
    cancel_rate: float = Field(default=80.0, gt=0)
    cancel_burst: float = Field(default=120.0, gt=0)
    # A refused single ``POST /order``: HTTP 400 ``{"error": ...}`` (what clients report most)
    # or 200 with ``success: false`` and ``errorMsg`` (the docs' example); both are the venue's.
    order_errors_as_400: bool = True
    min_gtd_s: float = Field(default=180.0, ge=0)  # a GTD expiration must be this far ahead
    page_size: int = Field(default=100, ge=1)  # rows per page of /data/orders and /data/trades
