"""The emergency keys' own path (tui/emergency.py): kill and cancel-all judged and sent on the
thread that reads the key, never behind the app's event loop (D13, D18).

The guard is a plain object with an injected clock and ``operate``; the driver wrapper is
tested on a stand-in for Textual's driver (whatever ``process_message`` forwards is what the
app's queue would receive).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from textual import events

from core.actions import Action, CancelAllOrders, Kill
from tui.emergency import JUDGED, EmergencyKeyHandled, EmergencyKeys, Outcome, with_emergency_keys


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Operate:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.threads: list[int] = []

    def __call__(self, action: Action) -> None:
        self.actions.append(action)
        self.threads.append(threading.get_ident())


def guard(clock: Clock | None = None, operate: Operate | None = None, **kw: Any) -> EmergencyKeys:
    return EmergencyKeys(
        operate if operate is not None else Operate(),
        clock if clock is not None else Clock(),
        kill_keys=["k"],
        cancel_all_keys=["c"],
        **kw,
    )


def outcomes(keys: EmergencyKeys, *pressed: str) -> list[Outcome | None]:
    results = []
    for key in pressed:
        press = keys.press(key, key if len(key) == 1 else None)
        results.append(None if press is None else press.outcome)
    return results


def test_kill_needs_a_second_key_within_the_window_D18() -> None:
    clock, operate = Clock(), Operate()
    keys = guard(clock, operate)
    assert outcomes(keys, "k") == [Outcome.KILL_ARMED]
    assert operate.actions == []
    clock.now += 1.9
    assert outcomes(keys, "y") == [Outcome.KILL_SENT]
    assert operate.actions == [Kill("console key")]


def test_a_late_confirm_says_so_and_sends_nothing() -> None:
    clock, operate = Clock(), Operate()
    keys = guard(clock, operate)
    keys.press("k")
    clock.now += 2.01
    assert outcomes(keys, "k") == [Outcome.KILL_TOO_LATE]  # said, and nothing sent
    assert operate.actions == []
    assert outcomes(keys, "k") == [Outcome.KILL_ARMED]  # a fresh press arms afresh
    assert not outcomes(keys, "x")[0]  # not ours: the app gets it


def test_the_window_runs_from_when_the_prompt_was_painted() -> None:
    clock, operate = Clock(), Operate()
    keys = guard(clock, operate)
    keys.press("k")
    clock.now += 1.5  # a slow screen: the prompt appears 1.5 s after the press
    assert keys.shown() == clock.now + 2.0
    clock.now += 1.9
    assert outcomes(keys, "k") == [Outcome.KILL_SENT]


def test_escape_aborts_and_held_keys_never_kill_twice_D18() -> None:
    operate = Operate()
    keys = guard(operate=operate)
    assert outcomes(keys, "k", "escape") == [Outcome.KILL_ARMED, Outcome.KILL_ABORTED]
    assert outcomes(keys, "escape", "y") == [None, None]  # nothing armed: not ours
    assert outcomes(keys, "k", "k", "k", "k", "y") == [
        Outcome.KILL_ARMED,
        Outcome.KILL_SENT,
        Outcome.KILL_HELD,
        Outcome.KILL_HELD,
        None,
    ]
    assert operate.actions == [Kill("console key")]
    keys.rearmed()
    assert outcomes(keys, "k") == [Outcome.KILL_ARMED]


def test_a_kill_by_the_engine_latches_the_key_too() -> None:
    keys = guard()
    keys.press("k")
    keys.latch()  # the view says KILLED (risk kill while the prompt was open)
    assert not keys.armed
    assert outcomes(keys, "k", "y") == [Outcome.KILL_HELD, None]


def test_cancel_all_goes_at_once_and_a_repeat_within_the_debounce_sends_nothing_D13() -> None:
    clock, operate = Clock(), Operate()
    keys = guard(clock, operate)
    assert outcomes(keys, "c", "c") == [Outcome.CANCEL_ALL_SENT, Outcome.CANCEL_ALL_REPEAT]
    clock.now += 0.9
    assert outcomes(keys, "c") == [Outcome.CANCEL_ALL_REPEAT]  # still held down
    clock.now += 1.1
    assert outcomes(keys, "c") == [Outcome.CANCEL_ALL_SENT]
    assert operate.actions == [CancelAllOrders("console key")] * 2


def test_keys_the_focused_input_types_are_never_taken() -> None:
    operate = Operate()
    keys = guard(operate=operate)
    keys.consumes = lambda key, character: character is not None and character in "0123456789abc"
    assert outcomes(keys, "c") == [None]  # typed into the filter
    assert outcomes(keys, "k", "y") == [Outcome.KILL_ARMED, Outcome.KILL_SENT]
    assert operate.actions == [Kill("console key")]


def test_read_only_takes_no_key() -> None:
    operate = Operate()
    keys = guard(operate=operate, enabled=False)
    assert outcomes(keys, "k", "k", "c") == [None, None, None]
    assert operate.actions == []


def test_a_refused_operate_is_reported_not_raised() -> None:
    def refuse(action: Action) -> None:
        raise RuntimeError("the runner is not running")

    keys = EmergencyKeys(refuse, Clock(), kill_keys=["k"], cancel_all_keys=["c"])
    press = keys.press("c", "c")
    assert press is not None and press.outcome is Outcome.NOT_SENT
    assert "not running" in press.error
    keys.press("k", "k")
    press = keys.press("k", "k")
    assert press is not None and press.outcome is Outcome.NOT_SENT
    assert not keys.killed  # nothing was sent: the key still works


class RecordingDriver:
    """Stands in for Textual's driver: what it forwards is what the app's queue receives."""

    def __init__(self) -> None:
        self.forwarded: list[Any] = []

    def process_message(self, message: Any) -> None:
        self.forwarded.append(message)


def test_the_driver_sends_the_kill_on_its_own_thread_before_the_app_sees_the_key() -> None:
    """D18: on a real terminal the kill leaves from the input thread; the app's loop (busy
    painting, or blocked) only hears about it afterwards, as a message."""
    operate = Operate()
    keys = guard(operate=operate)
    driver = with_emergency_keys(RecordingDriver, keys)()  # type: ignore[arg-type]

    def input_thread() -> None:
        for key in ("k", "x", "k"):
            driver.process_message(events.Key(key, key))

    reader = threading.Thread(target=input_thread)
    reader.start()
    reader.join()
    assert operate.actions == [Kill("console key")]
    assert operate.threads == [reader.ident]
    armed, other, sent = driver.forwarded
    assert isinstance(armed, EmergencyKeyHandled) and armed.press.outcome is Outcome.KILL_ARMED
    assert isinstance(other, events.Key) and getattr(other, JUDGED)  # the app won't judge it
    assert isinstance(sent, EmergencyKeyHandled) and sent.press.outcome is Outcome.KILL_SENT


def test_non_key_messages_pass_the_driver_untouched() -> None:
    driver = with_emergency_keys(RecordingDriver, guard())()  # type: ignore[arg-type]
    resize = events.Resize.from_dimensions((80, 24), None)
    driver.process_message(resize)
    assert driver.forwarded == [resize]


def test_text_fields_opened_by_keys_are_followed_in_key_order() -> None:
    """Whether c is typed depends on the focus, which keys still on their way to the app
    move: / then c typed faster than the app handles the / must type c into the log filter,
    not cancel everything; t then "cancel" types into the theme picker.  The guard sees the
    keys in order, so it follows the fields they open until escape or enter."""
    operate = Operate()
    keys = guard(
        operate=operate,
        text_fields={
            "slash": lambda ch: ch is not None and ch in "0123456789abcdefx",
            "t": lambda ch: ch is not None and ch.isprintable(),
        },
    )
    assert outcomes(keys, "slash", "c", "3") == [None, None, None]  # typed into the filter
    assert outcomes(keys, "k") == [Outcome.KILL_ARMED]  # not an id character: still kills
    assert outcomes(keys, "escape") == [Outcome.KILL_ABORTED]  # the armed kill comes first
    assert outcomes(keys, "escape") == [None]  # closes the filter
    assert outcomes(keys, "c") == [Outcome.CANCEL_ALL_SENT]
    assert outcomes(keys, "t", *"cancel", "k", "enter") == [None] * 9  # the theme picker
    assert keys.typing is False
    assert operate.actions == [CancelAllOrders("console key")]


def test_a_field_closed_without_a_key_gives_the_keys_back() -> None:
    operate = Operate()
    keys = guard(operate=operate, text_fields={"t": lambda ch: True})
    keys.press("t", "t")
    assert keys.typing
    keys.stop_typing()  # the app saw the picker closed by a click
    assert outcomes(keys, "c") == [Outcome.CANCEL_ALL_SENT]


def test_caps_lock_does_not_disable_the_emergency_keys() -> None:
    operate = Operate()
    keys = guard(operate=operate, reserved=["P"])
    assert outcomes(keys, "K", "Y", "C") == [
        Outcome.KILL_ARMED,
        Outcome.KILL_SENT,
        Outcome.CANCEL_ALL_SENT,
    ]
    remapped = EmergencyKeys(
        Operate(), Clock(), kill_keys=["p"], cancel_all_keys=["c"], reserved=["P"]
    )
    assert remapped.press("P", "P") is None  # shift+p is bound to something else


def test_a_guard_that_raises_never_takes_the_input_thread_down() -> None:
    keys = guard()

    def broken(key: str, character: str | None) -> bool:
        raise RuntimeError("widget gone")

    keys.consumes = broken
    driver = with_emergency_keys(RecordingDriver, keys)()  # type: ignore[arg-type]
    driver.process_message(events.Key("k", "k"))
    (key,) = driver.forwarded
    assert isinstance(key, events.Key) and not getattr(key, JUDGED)  # the app judges it


def test_escape_and_a_key_read_as_one_alt_key_count_as_both() -> None:
    """Without the kitty keyboard protocol, escape then k within ~100 ms reaches Textual as
    alt+k: the kill must neither be lost nor confirmed by the escape's key."""
    operate = Operate()
    keys = guard(operate=operate)
    assert outcomes(keys, "k", "alt+k") == [Outcome.KILL_ARMED, Outcome.KILL_ARMED]  # abort, arm
    assert operate.actions == []
    assert outcomes(keys, "alt+y") == [Outcome.KILL_ABORTED]  # escape aborted; y is not ours
    assert outcomes(keys, "alt+c") == [Outcome.CANCEL_ALL_SENT]
    assert outcomes(keys, "alt+x") == [None]
    assert operate.actions == [CancelAllOrders("console key")]


class Terminal:
    """Stands in for Textual's writer thread: its bounded queue of terminal output."""

    def __init__(self, room: int = 10) -> None:
        self._queue: queue.Queue[str] = queue.Queue(room)


class TerminalDriver(RecordingDriver):
    def __init__(self, room: int = 10) -> None:
        super().__init__()
        self._writer_thread = Terminal(room)

    def written(self) -> list[str]:
        out = []
        while not self._writer_thread._queue.empty():
            out.append(self._writer_thread._queue.get_nowait())
        return out


def test_the_input_thread_draws_the_kill_prompt_before_the_app_hears_of_it() -> None:
    """Issue 16: the first k took p50 ~0.4 s, p99 ~1 s to show its prompt at 5,000 events/s
    (the app's loop behind frames and views); the input thread queues it for the terminal
    itself, before the app is told, and only for an arm."""
    operate = Operate()
    keys = guard(operate=operate)
    order: list[str] = []

    def prompt() -> str:
        order.append("prompt")
        return "\x1b[1;1HKILL?"

    driver = with_emergency_keys(TerminalDriver, keys, prompt)()  # type: ignore[arg-type]
    driver.process_message(events.Key("k", "k"))
    assert driver.written() == ["\x1b[1;1HKILL?"]
    assert order == ["prompt"] and len(driver.forwarded) == 1  # drawn, then the app told
    driver.process_message(events.Key("escape", None))
    driver.process_message(events.Key("c", "c"))
    assert driver.written() == []  # an abort and a cancel-all draw nothing here
    driver.process_message(events.Key("k", "k"))
    driver.process_message(events.Key("y", "y"))
    assert driver.written() == ["\x1b[1;1HKILL?"]
    assert operate.actions == [CancelAllOrders("console key"), Kill("console key")]


def test_a_slow_terminal_or_a_broken_prompt_never_holds_the_input_thread() -> None:
    """A terminal that cannot keep up (its output queue full) skips the early prompt rather
    than block the thread that sends kills; the app paints it when it gets there."""
    operate = Operate()
    keys = guard(operate=operate)
    driver = with_emergency_keys(TerminalDriver, keys, lambda: "KILL?")(room=1)  # type: ignore[arg-type]
    driver._writer_thread._queue.put_nowait("a frame the terminal has not taken yet")
    driver.process_message(events.Key("k", "k"))  # would block forever on a blocking put
    driver.process_message(events.Key("k", "k"))
    assert operate.actions == [Kill("console key")]

    def broken() -> str:
        raise RuntimeError("app going away")

    keys = guard(operate=Operate())
    driver = with_emergency_keys(TerminalDriver, keys, broken)()  # type: ignore[arg-type]
    driver.process_message(events.Key("k", "k"))
    (armed,) = driver.forwarded
    assert isinstance(armed, EmergencyKeyHandled) and armed.press.outcome is Outcome.KILL_ARMED
