"""The journal's first facts: who wrote it, and the recipe of the maker it recorded.

``session_meta`` turns a ``MakerRecipe`` (config, instrument, venue, cloid prefix) and the
session's facts into JSON-able values for the ``meta`` table; ``recipe_from`` reads them back,
so that replay builds the very maker the session ran.  The config is written as the TOML the
config module writes (it holds no secret, D21: the key is named by its environment variable or
file, never included).  ``engine_fingerprint`` is a hash of the pure core's source: the same
version number can hide a different engine, and replay says so when they differ.
"""

from __future__ import annotations

import hashlib
import platform
import tomllib
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from core import config as config_module
from core.journal import codec
from core.journal.store import FORMAT, JournalError
from core.maker.recipe import MakerRecipe
from core.units import Instrument

_CORE = Path(__file__).resolve().parent.parent
# What decides the maker's behaviour: the pure core (the shell around it only feeds it).
_SHELL = {
    "build.py",
    "clock.py",
    "gcpolicy.py",
    "metrics.py",
    "reporter.py",
    "runner.py",
    "session.py",
}


def version() -> str:
    try:
        return metadata.version("mm-console")
    except metadata.PackageNotFoundError:
        return "unknown"


def engine_fingerprint() -> str:
    digest = hashlib.sha256()
    files = [p for p in _CORE.glob("*.py") if p.name not in _SHELL]
    files += list((_CORE / "maker").glob("*.py"))
    for path in sorted(files, key=lambda p: p.relative_to(_CORE).as_posix()):
        digest.update(path.relative_to(_CORE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def session_meta(recipe: MakerRecipe, *, seed: int | None, started_wall: float) -> dict[str, Any]:
    inst = recipe.instrument
    return {
        "format": FORMAT,
        "version": version(),
        "engine": engine_fingerprint(),
        "python": platform.python_version(),
        "venue": recipe.venue,
        "venue_kind": recipe.config.venue.kind,
        "network": recipe.config.venue.network if recipe.live else None,
        "live": recipe.live,
        "symbol": inst.symbol,
        "instrument": {
            "symbol": inst.symbol,
            "tick_size": str(inst.tick_size),
            "lot_size": str(inst.lot_size),
            "sz_decimals": inst.sz_decimals,
            "max_price_decimals": inst.max_price_decimals,
            "sig_figs": inst.sig_figs,
            "min_notional": str(inst.min_notional),
            "max_leverage": inst.max_leverage,
            "asset_id": inst.asset_id,
            "margin_tiers": [[str(bound), leverage] for bound, leverage in inst.margin_tiers],
            "quote": inst.quote,
            # The grid the session started on (D39: a change comes later, as an event).
            "grid": inst.grid,
            "bounded": inst.bounded,
            "min_lots": inst.min_lots,
            "shortable": inst.shortable,
            "title": inst.title,
        },
        "config": config_module.dump(recipe.config),
        "seed": seed,
        "cloid_prefix": recipe.cloid_prefix,
        "started_wall": started_wall,
        "schema": codec.schema(),
    }


def recipe_from(meta: dict[str, Any], source: str) -> MakerRecipe:
    """The recipe a journal recorded; ``JournalError`` naming what is missing or unreadable."""
    try:
        inst = dict(meta["instrument"])
        for key in ("tick_size", "lot_size", "min_notional"):
            inst[key] = Decimal(inst[key])
        inst["margin_tiers"] = tuple(
            (Decimal(bound), int(leverage)) for bound, leverage in inst.get("margin_tiers", ())
        )
        instrument = Instrument(**inst)
        config = config_module.parse(tomllib.loads(meta["config"]), f"{source} (recorded config)")
        return MakerRecipe(
            config, instrument, bool(meta["live"]), str(meta["venue"]), int(meta["cloid_prefix"])
        )
    except config_module.ConfigError as exc:
        raise JournalError(
            f"{source}: its config is not valid for this mm-console ({exc})"
        ) from None
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise JournalError(f"{source}: the recorded session is incomplete ({exc!r})") from None
