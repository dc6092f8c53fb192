"""``mm-console``: the command line.  Flags, config commands, the headless reporter.

It lives outside ``core``: it is the one module that wires the engine to the screen.  The
headless path (``--no-ui``) and the config commands never import Textual: a server without a
terminal must not pay for, or break on, the screen.  The console is imported lazily, only when
it is asked for.  Exit codes (``core.exitcodes``): 0 normal stop, 1 a swarm seed broke an
invariant, 2 bad config or arguments, 3 stopped by a safety rule -- halted, or the kill switch
latched -- or orders left on the venue after the stop (D37, ``RunResult.exit_code``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.config import (
    Config,
    ConfigError,
    load,
    names_polymarket_market,
    problems_of,
    write_defaults,
)
from core.exitcodes import EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS

if TYPE_CHECKING:
    from core.control.server import ControlServer
    from core.metrics import MetricsExporter
    from core.view import ConsoleView


def build_text() -> str:
    """``0.1.0, compiled (mypyc, 12 of 12 hot modules)`` or ``0.1.0, pure Python (...)``."""
    from core.build import describe
    from core.journal.meta import version

    return f"{version()}, {describe()}"


class _VersionAction(argparse.Action):
    """``--version``, read when asked (not on every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"mm-console {build_text()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mm-console",
        description="Run a market maker in-process and watch and control it from the terminal.",
    )
    p.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version and which build runs (compiled or pure Python), then exit",
    )
    p.add_argument("--config", type=Path, help="config file (default: the packaged config.toml)")
    p.add_argument("--no-ui", action="store_true", help="run headless: one status line a second")
    p.add_argument(
        "--json", action="store_true", help="headless status as JSON lines (implies --no-ui)"
    )
    p.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    p.add_argument("--seed", type=int, help="seed of the embedded exchange (default: config)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="show what the console is for: the embedded exchange with rejections, backoff, "
        "a recovery and a reconnect within the first minute",
    )
    p.add_argument(
        "--read-only", action="store_true", help="console: disable every order-affecting key"
    )
    p.add_argument(
        "--venue", choices=("sim", "hyperliquid", "polymarket"), help="override venue.kind"
    )
    p.add_argument("--network", choices=("testnet", "mainnet"), help="override venue.network")
    p.add_argument(
        "--market",
        help="override market.symbol; on Polymarket a condition id (0x…[:Outcome]), token id, "
        "slug or 'only' (the venue's one market: the loopback twin's)",
    )
    p.add_argument(
        "--api-url", help="override venue.api_url (e.g. the loopback twin, http://127.0.0.1:8765)"
    )
    p.add_argument(
        "--confirm-mainnet",
        action="store_true",
        help="required to trade mainnet (Hyperliquid or Polymarket): real money",
    )
    p.add_argument(
        "--journal",
        type=Path,
        metavar="PATH",
        help="record the session to this file (default: a new file under the journal "
        "directory, see [journal])",
    )
    p.add_argument("--no-journal", action="store_true", help="do not record this session")
    p.add_argument(
        "--name", help="headless: the engine's name on this machine (default: [control] name)"
    )
    p.add_argument(
        "--control", type=Path, metavar="PATH", help="headless: the control socket's path"
    )
    p.add_argument("--no-control", action="store_true", help="headless: serve no control socket")
    p.add_argument(
        "--metrics-port",
        type=_port,
        metavar="N",
        help="serve Prometheus metrics on 127.0.0.1:N (off by default)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    cfg = sub.add_parser("config", help="check or write a config file")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate a config file")
    check.add_argument("path", type=Path, nargs="?", help="file to check (default: packaged)")
    init = cfg_sub.add_parser("init", help="write the default config to a file")
    init.add_argument("path", type=Path)
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    twin = sub.add_parser(
        "sim-server",
        help="serve the embedded exchange over a venue's HTTP and WebSocket protocol "
        "(Hyperliquid's, or Polymarket's with --venue polymarket)",
    )
    twin.add_argument(
        "--venue",
        dest="twin_venue",
        choices=("hyperliquid", "polymarket"),
        default="hyperliquid",
        help="whose protocol to speak (default: hyperliquid)",
    )
    twin.add_argument("--port", type=_port, default=8765, help="port on 127.0.0.1 (0: any)")
    twin.add_argument("--seed", type=int, dest="twin_seed", help="seed (default: [sim] seed)")
    twin.add_argument(
        "--account",
        action="append",
        type=_address,
        default=[],
        help="an address allowed to sign (default: the key in venue.key_env / venue.key_file)",
    )
    twin.add_argument(
        "--faults", choices=("none", "adversarial"), default="none", help="wire fault plan"
    )
    swarm = sub.add_parser(
        "swarm", help="run seeded adversarial simulations of the maker and check invariants"
    )
    swarm.add_argument("--seeds", type=_positive_int, default=100, help="how many seeds")
    swarm.add_argument("--start", type=_non_negative_int, default=0, help="first seed")
    swarm.add_argument(
        "--duration", type=_positive_float, default=120.0, help="simulated seconds of faults"
    )
    swarm.add_argument(
        "--faults",
        choices=("swarm", "instant", "calm", "adversarial"),
        default="swarm",
        help="swarm: each seed draws its own fault mix (default); else one preset for all",
    )
    swarm.add_argument("--jobs", type=_positive_int, help="worker processes (default: CPUs)")
    swarm.add_argument(
        "--trace", action="store_true", help="print every event and command (runs in-process)"
    )
    swarm.add_argument(
        "--journal",
        type=Path,
        dest="swarm_journal",
        metavar="PATH",
        help="with --seeds 1: record the maker's inputs and batches (mm-console replay PATH)",
    )
    swarm.add_argument(
        "--without",
        type=_shrinkable_parts,
        default=(),
        metavar="PARTS",
        help="switch these parts of each seed's plan off, comma-separated (a shrunk replay): "
        "latency, late_answer, stale_snapshot, disconnect, timeout, lost_request, "
        "rate_limit_storm, mixed_reject, operator, and the adversary's storm_429, "
        "venue_cancels, resting_rejected, oid_only_news, fills_delayed, fills_lost, "
        "malformed_rows, altered_duplicates, unknown_statuses, duplicate_acks",
    )
    replay = sub.add_parser(
        "replay", help="replay a recorded session into the console, or verify it headless"
    )
    replay.add_argument("path", type=Path, metavar="JOURNAL", help="the session's journal file")
    replay.add_argument(
        "--verify",
        action="store_true",
        help="headless: check that every recorded batch is reproduced exactly (exit 1 if not)",
    )
    replay.add_argument(
        "--speed", type=_positive_float, default=1.0, help="console: play at this speed (1.0)"
    )
    attach = sub.add_parser(
        "attach", help="a console for an engine running headless on this machine"
    )
    attach.add_argument(
        "target", nargs="?", help="its name (mm-console ls) or socket path; default: the only one"
    )
    attach.add_argument(
        "--read-only",
        action="store_true",
        dest="attach_read_only",
        help="watch: the engine refuses every action from this console",
    )
    sub.add_parser("ls", help="the engines running on this machine")
    journal = sub.add_parser("journal", help="list, show and export recorded sessions")
    journal_sub = journal.add_subparsers(dest="journal_command", metavar="ACTION", required=True)
    ls = journal_sub.add_parser("ls", help="list the journals in a directory")
    ls.add_argument("dir", type=Path, nargs="?", help="directory (default: the journal directory)")
    show = journal_sub.add_parser("show", help="a journal's session and its inputs, as text")
    show.add_argument("path", type=Path, metavar="JOURNAL")
    show.add_argument(
        "--limit", type=_non_negative_int, default=50, help="inputs to list (0: none; default 50)"
    )
    show.add_argument("--all", action="store_true", help="list every input")
    for name, what in (("fills", "the session's fills"), ("orders", "the session's orders")):
        export = journal_sub.add_parser(name, help=f"{what}, for post-mortems and accounting")
        export.add_argument("path", type=Path, metavar="JOURNAL")
        export.add_argument("--csv", action="store_true", help="CSV (the default and only form)")
    return p


def _shrinkable_parts(text: str) -> tuple[str, ...]:
    from core.harness.scenario import SHRINKABLE

    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in parts if part not in SHRINKABLE]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or repr(text)} is not a part of the plan; "
            f"choose from {', '.join(SHRINKABLE)}"
        )
    return parts


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _address(text: str) -> str:
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", text) is None:
        raise argparse.ArgumentTypeError(f"not an address (0x and 40 hex digits): {text!r}")
    return text


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 0 to 65535, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "config":
            return _config_command(args)
        if args.command == "swarm":
            return _swarm_command(args)
        if args.command == "replay":
            return _replay_command(args)
        if args.command == "journal":
            return _journal_command(args)
        if args.command == "ls":
            return _ls_command()
        if args.command == "attach":
            return _attach_command(args)
        config = _with_venue_flags(load(args.config), args)
        if args.demo:
            from core.demo import demo

            config = demo(config)
        if args.command == "sim-server":
            return _sim_server_command(config, args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.no_ui or args.json:
        # JSON lines are for a file or a pipe: a console would write escape codes into it.
        return run_headless(config, args)
    if args.read_only or config.ui.read_only:
        # Issue 18: an in-process console owns its engine (it would quote with every key
        # disabled); watching is attaching.
        which = "--read-only" if args.read_only else "ui.read_only = true"
        print(
            f"mm-console: {which} is for watching a running engine: start it with "
            "mm-console --no-ui, then mm-console attach --read-only",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from tui.run import run_console  # the console is the only place Textual is imported

    return run_console(
        config,
        seed=args.seed,
        duration=args.duration,
        read_only=args.read_only,
        journal=args.journal,
        no_journal=args.no_journal,
        metrics_port=args.metrics_port,
    )


def _with_venue_flags(config: Config, args: argparse.Namespace) -> Config:
    """``--venue``, ``--network``, ``--api-url`` and ``--confirm-mainnet`` over the file."""
    update: dict[str, object] = {}
    if args.venue is not None:
        update["kind"] = args.venue
    if args.network is not None:
        update["network"] = args.network
    if args.api_url is not None:
        update["api_url"] = args.api_url
    if args.confirm_mainnet:
        update["mainnet_confirmed"] = True
    market = config.market
    if args.market is not None:
        market = market.model_copy(update={"symbol": args.market})
    elif args.venue == "polymarket" and not names_polymarket_market(market.symbol):
        # Polymarket chosen on the command line with the file's coin symbol: the venue's one
        # market (the twin's), refused by the venue's listing when it has more (never a guess).
        market = market.model_copy(update={"symbol": "only"})
    if not update and market is config.market:
        return config
    try:
        venue = config.venue.model_validate(
            {**config.venue.model_dump(), **update, "mainnet_confirmed": False}
        )
    except ValidationError as exc:
        raise ConfigError("command line", [f"venue.{p}" for p in problems_of(exc)]) from None
    try:
        Config.model_validate(
            {**config.model_dump(), "venue": venue.model_dump(), "market": market.model_dump()}
        )
    except ValidationError as exc:
        raise ConfigError("command line", problems_of(exc)) from None
    venue = venue.model_copy(update={"mainnet_confirmed": bool(args.confirm_mainnet)})
    return config.model_copy(update={"venue": venue, "market": market})


def _sim_server_command(config: Config, args: argparse.Namespace) -> int:
    """The loopback twin on 127.0.0.1 until Ctrl-C (exit 0)."""
    if args.twin_venue == "polymarket":
        return _pm_sim_server(config, args)
    from core.venues.keys import KeySourceError, load_private_key
    from core.venues.loopback import serve
    from core.venues.loopback.faults import TwinFaults

    accounts = [a.lower() for a in args.account]
    if not accounts:
        try:
            key = load_private_key(config.venue.key_env, config.venue.key_file)
        except KeySourceError as exc:
            print(
                f"mm-console sim-server: name the account it serves with --account 0x…, or "
                f"provide the key the client will use ({exc})",
                file=sys.stderr,
            )
            return EXIT_USAGE
        from eth_account import Account

        accounts = [Account.from_key(key.reveal()).address.lower()]
    sim = config.sim
    if args.twin_seed is not None:
        sim = sim.model_copy(update={"seed": args.twin_seed})
    return _serve_until_interrupted(
        serve.run(
            sim,
            account=accounts[0],
            agents=accounts[1:],
            faults=TwinFaults.preset(args.faults),
            port=args.port,
        ),
        args.port,
    )


def _pm_sim_server(config: Config, args: argparse.Namespace) -> int:
    """Polymarket's twin: the embedded exchange as a binary market (``[sim]`` when it is one,
    else the binary defaults with its seed), on the chain of ``venue.network`` (mainnet:
    Polygon 137, testnet: Amoy 80002), any account (the first order's maker)."""
    from core.simconfig import SimConfig
    from core.venues.loopback import serve
    from core.venues.loopback.polymarket.settings import PmTwinSettings

    sim = config.sim
    seed = args.twin_seed if args.twin_seed is not None else sim.seed
    if sim.market != "binary":
        sim = SimConfig(market="binary", seed=seed)
    elif args.twin_seed is not None:
        sim = sim.model_copy(update={"seed": seed})
    chain = 137 if config.venue.network == "mainnet" else 80002
    account = args.account[0].lower() if args.account else None
    settings = PmTwinSettings(chain_id=chain, account=account)
    return _serve_until_interrupted(
        serve.run_polymarket(sim, settings=settings, port=args.port), args.port
    )


def _serve_until_interrupted(server: Coroutine[Any, Any, None], port: int) -> int:
    """Run a twin until Ctrl-C (exit 0); a port it cannot listen on exits 2."""
    try:
        asyncio.run(server)
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as exc:
        print(f"mm-console sim-server: cannot listen on port {port}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _config_command(args: argparse.Namespace) -> int:
    if args.config_command == "check":
        cfg = load(args.path)
        source = args.path if args.path is not None else "packaged defaults"
        print(f"{source}: OK (venue {cfg.venue.kind}, market {cfg.market.symbol})")
        return EXIT_OK
    write_defaults(args.path, force=args.force)
    print(f"wrote the default config to {args.path}")
    return EXIT_OK


def _swarm_command(args: argparse.Namespace) -> int:
    """Run the seeds, print the table and every violation report; 1 if any violation."""
    from core.harness.swarm import SeedResult, render_summary, run_seed, run_swarm

    seeds = range(args.start, args.start + args.seeds)
    if args.swarm_journal is not None:
        return _swarm_journal(args)
    if args.trace:
        failed = False
        for seed in seeds:
            result = run_seed(
                seed, args.duration, args.faults, trace=sys.stdout, without=args.without
            )
            print("\n".join(result.report) or f"seed {seed}: no violation", flush=True)
            failed = failed or result.invariant is not None
        return EXIT_VIOLATIONS if failed else EXIT_OK
    progress: Callable[[SeedResult], None] | None = None
    finish: Callable[[], None] | None = None
    if sys.stderr.isatty():
        try:
            from tui.swarm_report import progress_bar
        except ImportError:  # rich missing: plain output only
            pass
        else:
            progress, finish = progress_bar(args.seeds)
    try:
        summary = run_swarm(
            seeds,
            args.duration,
            args.faults,
            jobs=args.jobs,
            on_result=progress,
            without=args.without,
        )
    finally:
        if finish is not None:
            finish()
    for violation in summary.violations:
        print("\n".join(violation.report), flush=True)
    print("\n".join(render_summary(summary)), flush=True)
    return EXIT_VIOLATIONS if summary.violations else EXIT_OK


def _swarm_journal(args: argparse.Namespace) -> int:
    """One seed, in-process, recorded: the evidence a failing seed leaves (issue 17)."""
    from core.harness.swarm import run_seed

    path: Path = args.swarm_journal
    if args.seeds != 1:
        print("mm-console swarm: --journal records one seed: use --seeds 1", file=sys.stderr)
        return EXIT_USAGE
    if path.exists():
        print(f"mm-console swarm: {path} exists; a journal is never overwritten", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = run_seed(
            args.start,
            args.duration,
            args.faults,
            trace=sys.stdout if args.trace else None,
            without=args.without,
            journal=path,
        )
    except (OSError, sqlite3.Error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"mm-console swarm: cannot write {path}: {why}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(result.report) or f"seed {args.start}: no violation", flush=True)
    print(f"journal: {path} (mm-console replay {path})", flush=True)
    return EXIT_VIOLATIONS if result.invariant is not None else EXIT_OK


def run_headless(config: Config, args: argparse.Namespace) -> int:
    from core.control.paths import ControlPathError
    from core.gcpolicy import quiet_collector
    from core.journal.files import JournalUnavailable, attach
    from core.reporter import HeadlessReporter, summary_lines
    from core.session import SessionError, build_session

    metrics = None
    try:
        session = build_session(config, seed=args.seed)
        metrics = _metrics(args.metrics_port)  # before the journal: a refusal leaves no file
        session.runner.control = _control(config, args)
        notice = attach(session, path=args.journal, disabled=args.no_journal)
    except (SessionError, JournalUnavailable, _MetricsUnavailable, ControlPathError) as exc:
        if metrics is not None:
            metrics.close()
        print(f"mm-console: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if notice:
        print(f"mm-console: {notice}", file=sys.stderr)
    print(f"mm-console: build {build_text()}", file=sys.stderr)
    inst = session.maker.instrument
    if inst.title:
        # Polymarket: which question and outcome this engine quotes, on the venue's grid.
        print(
            f"mm-console: market {inst.title} (tick {inst.venue_tick}, minimum "
            f"{inst.size_text(inst.min_lots)})",
            file=sys.stderr,
        )
    reporter = HeadlessReporter(
        session.maker.instrument,
        json_lines=args.json,
        out=sys.stdout,
        on_gone=session.runner.request_stop,
    )
    on_view = reporter.on_view
    session.runner.on_view = on_view if metrics is None else _both(on_view, metrics.update)
    quiet_collector()
    session.runner.paced_collections = True  # collections between events (core/gcpolicy.py)
    try:
        result = asyncio.run(session.runner.run(args.duration, install_signals=True))
    except ControlPathError as exc:
        print(f"mm-console: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if metrics is not None:
            metrics.close()
    summary = reporter.summary(session.runner.latest_view, result)
    text = json.dumps(summary) if args.json else "\n".join(summary_lines(summary))
    if reporter.gone:
        _silence_stdout()
        print(f"mm-console: {result.reason}; the summary goes here instead:", file=sys.stderr)
        print(text, file=sys.stderr)
    else:
        print(text, flush=True)
    for error in result.errors:
        print(error, file=sys.stderr)
    return result.exit_code


def _control(config: Config, args: argparse.Namespace) -> ControlServer | None:
    """The headless engine's control socket (issue 18), unless switched off."""
    from core.control.paths import socket_path
    from core.control.server import ControlServer

    if args.no_control or not config.control.enabled:
        return None
    name = args.name or config.control.name or f"{config.venue.kind}-{config.market.symbol}"
    path = args.control if args.control is not None else socket_path(name)
    return ControlServer(
        path,
        name=name,
        on_listening=lambda p: print(f"mm-console: consoles attach at {p}", file=sys.stderr),
    )


def _ls_command() -> int:
    from core.control.client import AttachError, probe
    from core.control.paths import socket_dir

    sockets = sorted(socket_dir().glob("*.sock"))
    rows = []
    for path in sockets:
        try:
            info = probe(path)
        except AttachError:
            continue  # left by an engine that died
        up = int(info.get("uptime_s", 0))
        rows.append(
            f"{info.get('name', path.stem):20} {info.get('venue', ''):32} "
            f"{info.get('mode', ''):9} {up // 3600}:{up % 3600 // 60:02}:{up % 60:02}  "
            f"{info.get('attached', 0)} attached  pid {info.get('pid')}"
        )
    if not rows:
        print(f"no engine is running (sockets in {socket_dir()})")
        return EXIT_OK
    print(f"{'name':20} {'venue':32} {'mode':9} uptime   consoles")
    print("\n".join(rows))
    return EXIT_OK


def _attach_command(args: argparse.Namespace) -> int:
    from core.control.client import AttachError
    from core.control.paths import ControlPathError, socket_dir, socket_path

    target: str | None = args.target
    try:
        if target is None:
            found = sorted(socket_dir().glob("*.sock"))
            if len(found) != 1:
                raise AttachError(
                    "no engine is running"
                    if not found
                    else "several engines are running; name one (mm-console ls)"
                )
            path = found[0]
        elif "/" in target or target.endswith(".sock"):
            path = Path(target)
        else:
            path = socket_path(target)
        from tui.attach import run_attached  # the console is the only place Textual is imported

        # ``ui.read_only`` in the config makes every attach a watcher's.
        read_only = args.attach_read_only or load(args.config).ui.read_only
        return run_attached(path, read_only=read_only)
    except (AttachError, ControlPathError, ConfigError) as exc:
        print(f"mm-console attach: {exc}", file=sys.stderr)
        return EXIT_USAGE


class _MetricsUnavailable(Exception):
    """The metrics port cannot be listened on."""


def _metrics(port: int | None) -> MetricsExporter | None:
    """The Prometheus endpoint on 127.0.0.1, when ``--metrics-port`` asks for one."""
    if port is None:
        return None
    from core.metrics import MetricsExporter

    exporter = MetricsExporter()
    try:
        exporter.serve(port)
    except OSError as exc:
        raise _MetricsUnavailable(
            f"cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc}"
        ) from None
    return exporter


def _both(
    first: Callable[[ConsoleView], None], second: Callable[[ConsoleView], None]
) -> Callable[[ConsoleView], None]:
    def both(view: ConsoleView) -> None:
        first(view)
        second(view)

    return both


def _replay_command(args: argparse.Namespace) -> int:
    """``replay --verify``: headless, exit 0 when every batch is reproduced, 1 at the first
    divergence, 2 when the journal cannot be read.  Without ``--verify``: the console."""
    from core.journal.replay import verify
    from core.journal.store import JournalError

    if args.verify:
        try:
            report = verify(args.path)
        except JournalError as exc:
            print(f"mm-console replay: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print("\n".join(report.lines()), flush=True)
        return EXIT_OK if report.ok else EXIT_VIOLATIONS
    from tui.replay import run_replay  # the console is the only place Textual is imported

    return run_replay(args.path, speed=args.speed)


def _journal_command(args: argparse.Namespace) -> int:
    from core.journal import export
    from core.journal.codec import CodecError
    from core.journal.files import journal_dir
    from core.journal.store import JournalError

    try:
        if args.journal_command == "ls":
            directory = args.dir or journal_dir(load(args.config).journal)
            print("\n".join(export.ls_lines(directory)), flush=True)
        elif args.journal_command == "show":
            limit = None if args.all else args.limit
            for line in export.show_lines(args.path, limit):
                print(line)
        elif args.journal_command == "fills":
            export.write_fills(args.path, sys.stdout)
        else:
            export.write_orders(args.path, sys.stdout)
    except (JournalError, CodecError) as exc:
        print(f"mm-console journal: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        _silence_stdout()
    return EXIT_OK


def _silence_stdout() -> None:
    """Point a closed standard output at /dev/null, so that the interpreter's last flush does
    not print a BrokenPipeError traceback on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    raise SystemExit(main())
