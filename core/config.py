"""Configuration: pydantic models for config.toml, loaded with tomllib, written with tomli-w.

A bad file gets one clear line per problem naming the key path, the bad value and what is
allowed, never a traceback (``ConfigError`` carries the lines; the CLI prints them and exits 2).
Unknown keys are errors: a typo such as ``max_positon`` must not silently fall back to a default.

Secrets are never read from or written to this file (D21): the venue's private key comes from
the environment or an owner-only key file named here, and a key that looks like a secret is
refused with a message saying where it belongs.

One module of about 410 lines on purpose: the models mirror ``config.toml`` table by table,
and a key is easiest to find in one file read from top to bottom.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core import keymap
from core.simconfig import SimConfig

_EXPONENT = 30  # sizes, limits and prices between 1e-30 and 1e30: anything else is a typo


def _sane_magnitude(value: Decimal) -> Decimal:
    """Refuse 1e-999999999 and the like here: exact unit arithmetic on them takes minutes."""
    if value and not -_EXPONENT <= value.adjusted() < _EXPONENT:
        raise ValueError(f"must be between 1e-{_EXPONENT} and 1e{_EXPONENT}")
    return value


PositiveDecimal = Annotated[
    Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_sane_magnitude)
]
NonNegativeDecimal = Annotated[
    Decimal, Field(ge=0, allow_inf_nan=False), AfterValidator(_sane_magnitude)
]
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_PM_MARKET = re.compile(
    r"^(0x[0-9a-fA-F]{64}(:[^:\s]{1,64})?|[0-9]{1,100}|[a-z0-9]+(-[a-z0-9]+)*)$"
)
_SECRET_WORDS = ("private_key", "secret", "mnemonic", "seed_phrase", "api_secret", "password")
# The deepest real key is three tables down (sim.flow.fair_drift); a file nested far deeper is
# hostile or broken, and walking it recursively would end in a RecursionError, not a message.
_MAX_DEPTH = 8
DEFAULT_KEY_ENV = "MM_CONSOLE_PRIVATE_KEY"


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class VenueConfig(_Section):
    """Where orders go.  ``sim`` is the embedded exchange; ``hyperliquid`` the real one.

    For Hyperliquid: ``account_address`` is the account whose orders these are (default: the
    key's own address; set it when an API wallet signs for it), ``vault_address`` a vault or
    sub-account traded on its behalf, ``api_url`` another endpoint for the same protocol (the
    loopback twin: ``mm-console sim-server``).  The key comes from the ``key_env`` variable or
    the owner-only ``key_file`` (D21).  ``dead_man_switch`` re-arms Hyperliquid's
    ``scheduleCancel`` so the exchange cancels every order ``dead_man_timeout_s`` after this
    process goes silent; Hyperliquid grants it only to accounts with $1,000,000 of traded
    volume.  ``mainnet_confirmed`` can only be set by ``--confirm-mainnet``.

    For Polymarket: ``network`` mainnet is the CLOB on Polygon (chain 137), testnet its staging
    host on Amoy (chain 80002); ``signature_type`` is how orders are signed (0 a plain key
    (EOA), 1 a Polymarket proxy wallet, 2 a Gnosis Safe, 3 a deposit wallet) and ``funder``
    the wallet that holds the pUSD and the shares (required for types 1-3).  Heartbeats (the
    venue's dead-man switch, D40) are always sent.
    """

    kind: Literal["sim", "hyperliquid", "polymarket"] = "sim"
    network: Literal["testnet", "mainnet"] = "testnet"
    account_address: str | None = None
    vault_address: str | None = None
    api_url: str | None = None
    key_env: str = DEFAULT_KEY_ENV
    key_file: Path | None = None
    request_timeout_s: float = Field(default=5.0, gt=0, le=60)
    dead_man_switch: bool = False
    dead_man_timeout_s: float = Field(default=30.0, ge=10, le=3600)
    signature_type: int = Field(default=0, ge=0, le=3)
    funder: str | None = None
    mainnet_confirmed: bool = Field(default=False, exclude=True)

    @field_validator("mainnet_confirmed")
    @classmethod
    def _only_from_the_command_line(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "cannot be set in a config file; pass --confirm-mainnet on the command line"
            )
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+(:\d+)?/?$", value):
            raise ValueError("must be an http(s) URL of a host, like http://127.0.0.1:8765")
        return value

    @field_validator("account_address", "vault_address", "funder")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError("must be a 0x-prefixed 40-hex-digit address")
        return value.lower() if value is not None else None


class MarketConfig(_Section):
    """``symbol``: the coin on Hyperliquid and the embedded exchange; on Polymarket the market,
    by condition id (``0x`` + 64 hex, with ``:Outcome`` to pick the token, default the first,
    e.g. ``0x5f65…:No``), by the outcome token's id (decimal), by the market's slug, or
    ``only``: the venue's one market accepting orders (the loopback twin's)."""

    symbol: str = Field(default="ETH", min_length=1, max_length=200)
    leverage: int = Field(default=5, ge=1, le=100)


class StrategyConfig(_Section):
    """The ladder.  Distances are in ticks of the instrument; sizes in units of the base asset."""

    levels: int = Field(default=3, ge=1, le=20)
    level_spacing_ticks: int = Field(default=20, ge=1)
    half_spread_ticks: int = Field(default=30, ge=1)
    size: PositiveDecimal = Decimal("0.5")
    size_step: NonNegativeDecimal = Decimal("0")
    skew_ticks_per_unit: NonNegativeDecimal = Decimal("10")
    requote_threshold_ticks: int = Field(default=5, ge=0)
    tick_interval_s: float = Field(default=0.1, gt=0, le=10)


class SignalsConfig(_Section):
    """How the market's signals shape the quotes (issue 20, ``core.spread``): volatility widens
    both half-spreads to ``volatility_multiplier`` x one sigma of the mid over a second (ticks),
    never tighter than the strategy's and never past ``half_spread_cap_ticks``; a side whose
    aggressors run at ``cascade_enter`` x their baseline is pulled or widened until they fall
    below ``cascade_exit`` and ``cascade_hold_s`` has passed.  0 turns either off."""

    volatility_multiplier: float = Field(default=0.5, ge=0, le=100)
    half_spread_cap_ticks: int = Field(default=500, ge=1)
    # Calm Poisson flow of 2 trades/s peaks near 4.8 over ten minutes (a clump of trades in a
    # second), a liquidation-like burst near 12 (tests/venues/test_sim_cascades.py).
    cascade_enter: float = Field(default=5.0, ge=0)
    cascade_exit: float = Field(default=2.0, gt=0)
    cascade_hold_s: float = Field(default=3.0, ge=0, le=3600)
    cascade_action: Literal["pull", "widen"] = "pull"
    cascade_widen: float = Field(default=2.0, ge=1, le=100)

    @model_validator(mode="after")
    def _exit_below_enter(self) -> SignalsConfig:
        if self.cascade_enter and self.cascade_exit > self.cascade_enter:
            raise ValueError(
                f"cascade_exit ({self.cascade_exit}) must be at most cascade_enter "
                f"({self.cascade_enter}): a side leaves a cascade below where it entered it"
            )
        return self


class RiskConfig(_Section):
    """Limits and the kill switch (D17, D18).  Sizes in base units, money in quote currency."""

    max_position: PositiveDecimal = Decimal("20")
    max_notional: PositiveDecimal = Decimal("20000")
    loss_limit: PositiveDecimal = Decimal("500")
    stale_data_s: float = Field(default=5.0, gt=0)
    runaway_multiple: float = Field(default=2.0, gt=1)
    kill_on_stale_data: bool = True


class BackoffConfig(_Section):
    base_s: float = Field(default=1.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    cap_s: float = Field(default=60.0, gt=0)
    price_error_threshold: int = Field(default=3, ge=1)
    position_limit_hold_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> BackoffConfig:
        if self.cap_s < self.base_s:
            raise ValueError(f"cap_s ({self.cap_s}) must be >= base_s ({self.base_s})")
        return self


class RecoveryConfig(_Section):
    enabled: bool = True
    rejection_threshold: int = Field(default=3, ge=1)
    min_ioc_size: PositiveDecimal = Decimal("0.1")
    cooldown_s: float = Field(default=5.0, ge=0)
    max_attempts: int = Field(default=10, ge=1)
    slippage_ticks: int = Field(default=5, ge=0)


class ReconcileConfig(_Section):
    """Reconciliation (D9, D16, D24, D31-D33).  ``query_retry_cap_s``: status queries that fail
    or get an answer that settles nothing are asked again after 0.25 s, 0.5 s, ... up to this;
    ``settle_query_s``: a fill the venue has not made final this long after it matched is asked
    about (its fills fetched, D38), again at doubling intervals.
    ``fill_gap_wait_s``: how long fills the venue says happened may be behind before they are
    fetched by time."""

    grace_period_s: float = Field(default=2.0, ge=0)
    request_lifetime_s: float = Field(default=10.0, gt=0)
    interval_s: float = Field(default=30.0, gt=0)
    late_fill_window_s: float = Field(default=1.0, ge=0)
    position_tolerance: NonNegativeDecimal = Decimal("0")
    unknown_orders: Literal["cancel", "adopt"] = "cancel"
    on_start: Literal["cancel_all", "adopt"] = "cancel_all"
    cancel_timeout_s: float = Field(default=5.0, gt=0)
    query_timeout_s: float = Field(default=5.0, gt=0)
    query_retry_cap_s: float = Field(default=8.0, ge=0.25, le=600)
    fill_gap_wait_s: float = Field(default=1.0, gt=0, le=60)
    settle_query_s: float = Field(default=30.0, gt=0, le=3600)
    terminal_retention_s: float = Field(default=60.0, gt=0)


class EmergencyConfig(_Section):
    """Cancels, cancel-all and kill (D13, D25, D29).  They always go out at once; only their
    *retries* wait: a cancel the venue refused (a 429) is retried after ``cancel_retry_base_s``,
    doubling up to ``cancel_retry_cap_s``; likewise a cancel-all whose listing or verification
    the venue refused, with ``sweep_retry_*``.  A cancel-all unanswered for
    ``sweep_timeout_s`` is sent again; ``sweep_attempts`` cancel-alls that leave orders behind
    (rate limits do not count) end it as failed.  The venue must be seen empty twice,
    ``verify_gap_s`` apart.  ``escalate_after`` cancels failing in a row become one cancel-all."""

    cancel_retry_base_s: float = Field(default=0.1, gt=0, le=10)
    cancel_retry_cap_s: float = Field(default=2.0, gt=0, le=60)
    sweep_retry_base_s: float = Field(default=0.2, gt=0, le=10)
    sweep_retry_cap_s: float = Field(default=2.0, gt=0, le=60)
    sweep_timeout_s: float = Field(default=5.0, gt=0, le=120)
    sweep_attempts: int = Field(default=5, ge=1, le=100)
    verify_gap_s: float = Field(default=0.3, gt=0, le=10)
    escalate_after: int = Field(default=3, ge=1, le=1000)

    @model_validator(mode="after")
    def _caps_not_below_bases(self) -> EmergencyConfig:
        for kind in ("cancel", "sweep"):
            base = getattr(self, f"{kind}_retry_base_s")
            cap = getattr(self, f"{kind}_retry_cap_s")
            if cap < base:
                raise ValueError(
                    f"{kind}_retry_cap_s ({cap}) must be >= {kind}_retry_base_s ({base})"
                )
        return self


class JournalConfig(_Section):
    """The session's journal (issue 17): every input the maker received and every batch it
    sent, one SQLite file per session, for ``mm-console replay`` and ``mm-console journal``.
    ``dir`` empty means the user's data directory (``$XDG_DATA_HOME/mm-console/journals``).
    Old journals there are deleted at start-up beyond ``max_total_mb`` (oldest first) or
    ``max_age_days``.  A journal that cannot be written is reported once and quoting goes on,
    unless ``required``: then the session refuses to start, or halts (cancels everything)."""

    enabled: bool = True
    dir: str = ""
    required: bool = False
    max_total_mb: int = Field(default=2048, ge=1, le=10_000_000)
    max_age_days: float = Field(default=30.0, gt=0, le=36500)


class ControlConfig(_Section):
    """The control socket of a headless engine (issue 18): consoles attach to it with
    ``mm-console attach``.  ``name`` (default: venue and market, e.g. ``sim-ETH``) names the
    socket in the user's runtime directory; ``--name``, ``--control PATH`` and
    ``--no-control`` override."""

    enabled: bool = True
    name: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$")


KEY_ACTIONS = tuple(keymap.DEFAULT_KEYS)


class UiConfig(_Section):
    theme: str = Field(default="mm-dark", min_length=1)
    refresh_hz: float = Field(default=11.0, ge=1, le=60)
    read_only: bool = False
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys")
    @classmethod
    def _known_actions(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(KEY_ACTIONS))
        if unknown:
            raise ValueError(
                f"unknown key action(s) {', '.join(unknown)} (allowed: {', '.join(KEY_ACTIONS)})"
            )
        for action, key in value.items():
            if not key.strip():
                raise ValueError(f"key for {action} must not be empty")
        return value


class Config(_Section):
    """The whole file.  Each table is optional; a missing key takes its default."""

    venue: VenueConfig = Field(default_factory=VenueConfig)
    market: MarketConfig = Field(default_factory=MarketConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    signals: SignalsConfig = Field(default_factory=SignalsConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)
    recovery: RecoveryConfig = Field(default_factory=RecoveryConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    emergency: EmergencyConfig = Field(default_factory=EmergencyConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)

    @model_validator(mode="after")
    def _sim_market_matches(self) -> Config:
        if self.venue.kind == "sim" and self.market.symbol != self.sim.symbol:
            raise ValueError(
                f"market.symbol ({self.market.symbol!r}) must equal sim.symbol "
                f'({self.sim.symbol!r}) when venue.kind is "sim"'
            )
        if self.venue.kind == "polymarket":
            if not names_polymarket_market(self.market.symbol):
                raise ValueError(
                    f"market.symbol ({self.market.symbol!r}) must name a Polymarket market when "
                    'venue.kind is "polymarket": a condition id (0x + 64 hex digits, optionally '
                    "followed by :Outcome), an outcome token id (decimal digits), a market slug "
                    '(lower-case words and hyphens) or "only" (the venue\'s one market)'
                )
            if self.venue.signature_type and self.venue.funder is None:
                raise ValueError(
                    f"venue.funder is required with venue.signature_type = "
                    f"{self.venue.signature_type} (the wallet that holds the pUSD and shares)"
                )
        return self


def names_polymarket_market(symbol: str) -> bool:
    """Whether ``symbol`` can name a Polymarket market (see ``MarketConfig``)."""
    return bool(_PM_MARKET.match(symbol))


class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` holds one readable line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def default_config_path() -> Path:
    """The packaged defaults: inside the wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "defaults" / "config.toml"
    return packaged if packaged.is_file() else here.parent / "config.toml"


def load(path: Path | None = None) -> Config:
    """Read and validate a config file (the packaged defaults when ``path`` is None)."""
    source = path if path is not None else default_config_path()
    try:
        raw = source.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte in it
        raise ConfigError(str(source), [f"cannot read: {_os_error(exc)}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(source), ["not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(source), [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(
            str(source), ["not valid TOML: arrays or tables nested too deep to read"]
        ) from None
    return parse(data, str(source))


def parse(data: dict[str, Any], source: str = "config") -> Config:
    deep = _too_deep(data)
    if deep is not None:
        raise ConfigError(
            source, [f"{deep}: nested more than {_MAX_DEPTH} levels deep; no config key is"]
        )
    secrets = list(_secret_keys(data, ""))
    if secrets:
        raise ConfigError(
            source,
            [
                f"{key}: secrets are never read from the config file; put the key in the "
                f"{DEFAULT_KEY_ENV} environment variable or an owner-only file named by "
                f"venue.key_file"
                for key in secrets
            ],
        )
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err) for err in exc.errors()]) from None
    unsafe = keymap.problems(config.ui.keys)
    if unsafe:
        # A key map that can disarm the console (no key kills, two actions on one key) is
        # refused like any other bad value, one line per problem.
        raise ConfigError(source, [f"ui.keys: {p}" for p in unsafe])
    return config


def _too_deep(data: dict[str, Any]) -> str | None:
    """Where ``data`` first goes deeper than ``_MAX_DEPTH`` tables or arrays (walked without
    recursion), as a dotted path of its first levels; None when it is shallow enough."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > _MAX_DEPTH:
            return ".".join(path[: _MAX_DEPTH + 1]) + "…"
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in children:
            if isinstance(value, dict | list):
                stack.append((value, (*path, str(key))))
    return None


def _secret_keys(node: Any, prefix: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if any(word in str(key).lower() for word in _SECRET_WORDS):
                found.append(path)
            found.extend(_secret_keys(value, path))
    return found


def _describe(err: Any) -> str:
    loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key{_allowed_keys(err['loc'])}"
    message = str(err["msg"])
    message = re.sub(r"^Input should be", "must be", message)
    message = re.sub(r"^Value error, ", "", message)
    if kind == "missing":
        return f"{loc}: is required"
    return f"{loc}: {message}, got {_show(err.get('input'))}"


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return ""
    return f" (allowed: {', '.join(model.model_fields)})"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def dump(config: Config) -> str:
    """The config as TOML (no secrets exist in it to leak)."""
    data = config.model_dump(mode="json", exclude_none=True)
    return tomli_w.dumps(data)


def write_defaults(path: Path, *, force: bool = False) -> None:
    try:
        if path.exists() and not force:
            raise ConfigError(str(path), ["already exists; pass --force to overwrite it"])
        path.write_text(dump(Config()), encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte in it
        raise ConfigError(str(path), [f"cannot write: {_os_error(exc)}"]) from None


def _os_error(exc: OSError | ValueError) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def problems_of(exc: ValidationError) -> list[str]:
    """One readable line per problem of a failed validation (key, value, what is allowed)."""
    return [_describe(err) for err in exc.errors()]
