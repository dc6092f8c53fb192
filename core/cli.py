"""``mm-console``: the command line.  Flags, config commands, the headless reporter.

The headless path (``--no-ui``) and the config commands never import Textual: a server without
a terminal must not pay for, or break on, the screen.  The console is imported lazily, only when
it is asked for.  Exit codes: 0 normal stop, 2 bad config or arguments, 3 halted by a safety
rule (or orders left on the venue after the stop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from core.config import Config, ConfigError, load, write_defaults

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_HALTED = 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mm-console",
        description="Run a market maker in-process and watch and control it from the terminal.",
    )
    p.add_argument("--config", type=Path, help="config file (default: the packaged config.toml)")
    p.add_argument("--no-ui", action="store_true", help="run headless: one status line a second")
    p.add_argument("--json", action="store_true", help="headless status as JSON lines")
    p.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    p.add_argument("--seed", type=int, help="seed of the embedded exchange (default: config)")
    p.add_argument(
        "--read-only", action="store_true", help="console: disable every order-affecting key"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    cfg = sub.add_parser("config", help="check or write a config file")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate a config file")
    check.add_argument("path", type=Path, nargs="?", help="file to check (default: packaged)")
    init = cfg_sub.add_parser("init", help="write the default config to a file")
    init.add_argument("path", type=Path)
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return p


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
        config = load(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.no_ui:
        return run_headless(config, args)
    from tui.app import run_console  # the console is the only place Textual is imported

    return run_console(config, seed=args.seed, duration=args.duration, read_only=args.read_only)


def _config_command(args: argparse.Namespace) -> int:
    if args.config_command == "check":
        cfg = load(args.path)
        source = args.path if args.path is not None else "packaged defaults"
        print(f"{source}: OK (venue {cfg.venue.kind}, market {cfg.market.symbol})")
        return EXIT_OK
    write_defaults(args.path, force=args.force)
    print(f"wrote the default config to {args.path}")
    return EXIT_OK


def run_headless(config: Config, args: argparse.Namespace) -> int:
    from core.reporter import HeadlessReporter
    from core.session import SessionError, build_session

    try:
        session = build_session(config, seed=args.seed)
    except SessionError as exc:
        print(f"mm-console: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reporter = HeadlessReporter(session.maker.instrument, json_lines=args.json, out=sys.stdout)
    session.runner.on_view = reporter.on_view
    result = asyncio.run(session.runner.run(args.duration, install_signals=True))
    summary = reporter.summary(session.runner.latest_view, result)
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        for key, value in summary.items():
            print(f"{key}: {value}", flush=True)
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.mode.value == "HALTED" or not result.clean or result.errors:
        return EXIT_HALTED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
