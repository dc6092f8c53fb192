"""A trading session: from a validated config to a venue, a maker and a runner.

The console and the headless command build their engine here, so both trade the same thing
the same way.  Nothing here trades or reads the clock beyond handing the wall clock over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.clock import Clock, WallClock
from core.config import Config
from core.maker import MarketMaker
from core.maker.recipe import MakerRecipe
from core.runner import Runner
from core.venues.base import Venue
from core.venues.sim.venue import SimVenue


@dataclass(slots=True)
class Session:
    config: Config
    venue: Venue
    maker: MarketMaker
    runner: Runner
    clock: Clock
    recipe: MakerRecipe  # what the maker was built from: the journal writes it down
    seed: int | None = None  # the embedded exchange's seed (None on a real venue)


class SessionError(Exception):
    """The session cannot be built (e.g. a venue this build cannot reach)."""


def build_session(
    config: Config, *, seed: int | None = None, clock: Clock | None = None
) -> Session:
    clock = clock if clock is not None else WallClock()
    if config.venue.kind == "hyperliquid":
        return _hyperliquid_session(config, clock)
    if config.venue.kind == "polymarket":
        return _polymarket_session(config, clock)
    sim = config.sim if seed is None else config.sim.model_copy(update={"seed": seed})
    venue = SimVenue(sim, clock)
    instrument = venue.instrument
    # A fresh cloid prefix per process: ids never repeat across restarts (D2, D22).
    prefix = int.from_bytes(os.urandom(4), "big") if seed is None else (sim.seed & 0xFFFFFFFF)
    recipe = MakerRecipe(config, instrument, False, f"embedded sim ({sim.symbol})", prefix)
    maker = recipe.build()
    runner = Runner(
        maker,
        venue,
        clock,
        tick_interval=config.strategy.tick_interval_s,
        publish_hz=config.ui.refresh_hz,
    )
    return Session(config, venue, maker, runner, clock, recipe, sim.seed)


def _hyperliquid_session(config: Config, clock: Clock) -> Session:
    """The real exchange: refuse mainnet without ``--confirm-mainnet``, load the key (D21),
    read the instrument from ``meta``, then build the venue, the maker and the runner.  Every
    failure is a ``SessionError`` with one clear line (the CLI exits 2)."""
    from core.venues.hyperliquid.rest import RestRefused, RestUnknown, fetch_instrument
    from core.venues.hyperliquid.signing import Signer
    from core.venues.hyperliquid.venue import Endpoints, HlSettings, HyperliquidVenue
    from core.venues.keys import KeySourceError, abbreviate, load_private_key
    from core.venues.rows import MappingError

    v = config.venue
    if v.network == "mainnet" and not v.mainnet_confirmed:
        raise SessionError(
            'venue.network = "mainnet" trades real money; pass --confirm-mainnet to confirm'
        )
    try:
        key = load_private_key(v.key_env, v.key_file)
    except KeySourceError as exc:
        raise SessionError(str(exc)) from None
    endpoints = Endpoints.for_network(v.network, v.api_url)
    try:
        instrument = fetch_instrument(endpoints.api_url, config.market.symbol, v.request_timeout_s)
    except (RestRefused, RestUnknown, MappingError) as exc:
        raise SessionError(f"cannot start on Hyperliquid {v.network}: {exc}") from None
    signer = Signer(key, is_mainnet=endpoints.is_mainnet, vault_address=v.vault_address)
    user = v.vault_address or v.account_address or signer.address
    settings = HlSettings(
        endpoints,
        user,
        request_timeout_s=v.request_timeout_s,
        dead_man_s=v.dead_man_timeout_s if v.dead_man_switch else None,
    )
    venue = HyperliquidVenue(instrument, signer, settings, clock)
    prefix = int.from_bytes(os.urandom(4), "big")
    # The endpoint, in the header: which network, and any other URL (the loopback twin).
    via = f" via {endpoints.api_url.split('//', 1)[-1]}" if v.api_url else ""
    label = f"hyperliquid {v.network}{via} ({instrument.symbol}, {abbreviate(user)})"
    recipe = MakerRecipe(config, instrument, True, label, prefix)
    maker = recipe.build()
    runner = Runner(
        maker,
        venue,
        clock,
        tick_interval=config.strategy.tick_interval_s,
        publish_hz=config.ui.refresh_hz,
    )
    return Session(config, venue, maker, runner, clock, recipe)


def _polymarket_session(config: Config, clock: Clock) -> Session:
    """Polymarket's CLOB: mainnet only with ``--confirm-mainnet``, the key as for Hyperliquid
    (D21), the market -- tick, minimum size, neg-risk, question and outcome -- read from the
    venue (never from config, D39), then the venue, the maker and the runner.  API credentials
    are derived from the key when the venue connects (L1).  Every failure is a
    ``SessionError`` with one clear line (the CLI exits 2)."""
    from core.venues.keys import KeySourceError, abbreviate, load_private_key
    from core.venues.polymarket.market import MarketError, fetch_market
    from core.venues.polymarket.signing import AMOY, POLYGON, PmSigner
    from core.venues.polymarket.venue import (
        CLOB_URL,
        STAGING_URL,
        STAGING_WS_URL,
        PmSettings,
        PolymarketVenue,
    )

    v = config.venue
    if v.network == "mainnet" and not v.mainnet_confirmed:
        raise SessionError(
            'venue.network = "mainnet" trades real money; pass --confirm-mainnet to confirm'
        )
    try:
        key = load_private_key(v.key_env, v.key_file)
    except KeySourceError as exc:
        raise SessionError(str(exc)) from None
    if v.api_url is not None:
        settings = PmSettings.loopback(v.api_url, request_timeout_s=v.request_timeout_s)
    elif v.network == "mainnet":
        settings = PmSettings(api_url=CLOB_URL, request_timeout_s=v.request_timeout_s)
    else:
        settings = PmSettings(
            api_url=STAGING_URL, ws_url=STAGING_WS_URL, request_timeout_s=v.request_timeout_s
        )
    try:
        market = fetch_market(settings.api_url, config.market.symbol, v.request_timeout_s)
    except MarketError as exc:
        raise SessionError(f"cannot start on Polymarket {v.network}: {exc}") from None
    signer = PmSigner(
        key,
        chain_id=POLYGON if v.network == "mainnet" else AMOY,
        signature_type=v.signature_type,
        funder=v.funder,
    )
    venue = PolymarketVenue(market, signer, settings, clock)
    instrument = venue.instrument
    prefix = int.from_bytes(os.urandom(4), "big")
    via = f" via {settings.api_url.split('//', 1)[-1]}" if v.api_url else ""
    label = f"polymarket {v.network}{via} ({market.symbol}, {abbreviate(signer.funder)})"
    recipe = MakerRecipe(config, instrument, True, label, prefix)
    maker = recipe.build()
    runner = Runner(
        maker,
        venue,
        clock,
        tick_interval=config.strategy.tick_interval_s,
        publish_hz=config.ui.refresh_hz,
    )
    return Session(config, venue, maker, runner, clock, recipe)
