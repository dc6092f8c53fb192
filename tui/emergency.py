"""The emergency keys' own path: kill and cancel-all act the moment the key is read (D13, D18).

Textual reads the terminal on a thread of its own and queues every key for the app's event
loop.  That loop may be painting a frame (tens of milliseconds when the engine thread is busy
and both share the GIL), opening a screen, or waiting for a repaint before a dialog's answer is
delivered; a kill must wait for none of it.  ``EmergencyKeys`` is a small thread-safe state
machine for the two keys that protect money:

* cancel-all (``c``): sent at once; a repeat within ``debounce`` s (auto-repeat, a double
  press) sends nothing;
* kill (``k``): the first press arms it, a confirm key (the kill key again or ``y``) before
  the deadline sends ``Kill`` at once, ``escape``/``n`` aborts.  The deadline is ``window`` s
  after the press, extended to ``window`` s after the app has painted the prompt (``shown``),
  so a slow screen never eats the operator's time to read it.  Once sent, the kill is latched
  here until the operator re-arms (``rearmed``): held keys never send it twice.

Keys reach it two ways and whichever sees a key first decides: ``with_emergency_keys`` wraps
the terminal driver so the input thread asks it as soon as a key is parsed (a real terminal),
and the app asks it for keys that arrive as messages (tests, the pilot).  A key the driver has
judged is marked so the app never judges it twice; a key it acted on reaches the app only as an
``EmergencyKeyHandled`` message, which the app uses to paint the prompt or a toast.  A key the
focused widget types (a text input) is never taken, exactly as Textual skips priority bindings
for it.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.driver import Driver
from textual.message import Message

from core.actions import Action, CancelAllOrders, Kill

CONFIRM_WINDOW_S = 2.0
CANCEL_DEBOUNCE_S = 1.0
CONFIRM_KEYS = ("y",)
ABORT_KEYS = ("escape", "n")
JUDGED = "_mm_emergency_judged"  # set on a Key event the driver already showed the guard
CLOSE_KEYS = ("escape", "enter")  # leave a text field opened by a key
ALT = "alt+"


class Outcome(enum.Enum):
    KILL_ARMED = "kill armed"
    KILL_SENT = "kill sent"
    KILL_ABORTED = "kill aborted"
    KILL_HELD = "kill already sent"  # a kill key while latched: nothing sent
    KILL_TOO_LATE = "kill not confirmed in time"  # a confirm key after the deadline
    CANCEL_ALL_SENT = "cancel-all sent"
    CANCEL_ALL_REPEAT = "cancel-all repeat"  # within the debounce: nothing sent
    NOT_SENT = "not sent"  # operate refused (the engine is not running)


@dataclass(frozen=True, slots=True)
class Press:
    outcome: Outcome
    at: float
    deadline: float | None = None  # KILL_ARMED: confirm before this (the guard's clock)
    error: str = ""


class EmergencyKeyHandled(Message):
    """Posted to the app for a key the guard acted on (from whichever thread saw it)."""

    def __init__(self, press: Press) -> None:
        super().__init__()
        self.press = press


class EmergencyKeys:
    """Kill and cancel-all, judged and sent on the thread that reads the key."""

    def __init__(
        self,
        operate: Callable[[Action], None],
        clock: Callable[[], float],
        *,
        kill_keys: Iterable[str],
        cancel_all_keys: Iterable[str],
        reserved: Iterable[str] = (),
        text_fields: Mapping[str, Callable[[str | None], bool]] | None = None,
        enabled: bool = True,
        window: float = CONFIRM_WINDOW_S,
        debounce: float = CANCEL_DEBOUNCE_S,
    ) -> None:
        self._operate = operate
        self._clock = clock
        # Caps Lock turns k into K: a lower-case letter is also taken in upper case unless
        # that is ``reserved`` (bound to something else), so the key never silently dies.
        taken = frozenset(reserved)
        self._kill_keys = _both_cases(kill_keys, taken)
        self._confirm_keys = self._kill_keys | _both_cases(CONFIRM_KEYS, taken)
        self._cancel_all_keys = _both_cases(cancel_all_keys, taken)
        self._window = window
        self._debounce = debounce
        self._lock = threading.Lock()
        self.enabled = enabled
        self.consumes: Callable[[str, str | None], bool] = lambda key, character: False
        self._deadline: float | None = None
        self._killed = False
        self._last_cancel_all = float("-inf")
        # key that opens a text field -> which characters that field types (``_typed``)
        self._openers = dict(text_fields or {})
        self._typing: Callable[[str | None], bool] | None = None
        self._typing_since = 0.0

    # ---- what the app reads ---------------------------------------------------------------

    @property
    def armed(self) -> bool:
        deadline = self._deadline
        return deadline is not None and self._clock() <= deadline

    @property
    def deadline(self) -> float | None:
        return self._deadline

    @property
    def killed(self) -> bool:
        return self._killed

    # ---- keys -----------------------------------------------------------------------------

    def press(self, key: str, character: str | None = None) -> Press | None:
        """Judge one key; ``None`` when it is not ours (let the app have it).  Every key
        must be shown here exactly once, in the order typed (the text fields opened by keys
        are tracked here, see ``_typed``)."""
        if not self.enabled:
            return None
        with self._lock:
            if key.startswith(ALT) and len(key) == len(ALT) + 1:
                # Without the kitty keyboard protocol a bare escape and the key typed within
                # ~100 ms after it reach Textual as one alt+key: judge them as the two keys
                # they were (escape aborts or leaves a field, then the key acts).
                first = self._press_one("escape", None)
                second = self._press_one(key[len(ALT) :], key[len(ALT) :])
                return second if second is not None else first
            return self._press_one(key, character)

    def _press_one(self, key: str, character: str | None) -> Press | None:
        if self._typed(key, character):
            return None
        return self._judge(key)

    @property
    def typing(self) -> bool:
        return self._typing is not None

    def stop_typing(self) -> None:
        """The field a key opened is gone without a key closing it (a mouse click)."""
        with self._lock:
            self._typing = None

    def typing_for(self) -> float:
        """Seconds since a key opened the text field being typed into (0 when none)."""
        return 0.0 if self._typing is None else max(0.0, self._clock() - self._typing_since)

    def _typed(self, key: str, character: str | None) -> bool:
        """Is this key text for a field rather than a command?

        Focus alone cannot tell on the input thread: keys still on their way to the app move
        it (``/`` opens the log filter, ``t`` the theme picker), and ``/`` then ``c`` typed
        fast would cancel everything.  So the fields that keys open are followed here, in key
        order: from the opening key until ``escape`` or ``enter``, the characters the field
        takes are text.  A field focused another way (a click) is asked about (``consumes``).
        A kill's confirm and abort keys are never text while it is armed."""
        if self._deadline is not None and (key in self._confirm_keys or key in ABORT_KEYS):
            return False
        typing = self._typing
        if typing is not None:
            if key in CLOSE_KEYS:
                self._typing = None
                return True
            if typing(character):
                return True
        opens = self._openers.get(key)
        if opens is not None:
            self._typing = opens
            self._typing_since = self._clock()
            return True
        return self._is_ours(key) and self.consumes(key, character)

    def kill_key(self) -> Press | None:
        """The kill action from elsewhere (a footer click, the command palette)."""
        if not self.enabled:
            return None
        with self._lock:
            return self._judge(min(self._kill_keys))

    def cancel_all_key(self) -> Press | None:
        if not self.enabled:
            return None
        with self._lock:
            return self._judge(min(self._cancel_all_keys))

    def _is_ours(self, key: str) -> bool:
        return (
            key in self._kill_keys
            or key in self._cancel_all_keys
            or (self._deadline is not None and (key in CONFIRM_KEYS or key in ABORT_KEYS))
        )

    def _judge(self, key: str) -> Press | None:
        now = self._clock()
        if key in self._cancel_all_keys:
            recent = now - self._last_cancel_all < self._debounce
            self._last_cancel_all = now
            if recent:
                return Press(Outcome.CANCEL_ALL_REPEAT, now)
            return self._send(CancelAllOrders("console key"), Outcome.CANCEL_ALL_SENT, now)
        deadline = self._deadline
        if deadline is not None:
            if now > deadline:
                self._deadline = None  # ran out: nothing is sent, whatever the key
                if key in self._confirm_keys or key in ABORT_KEYS:
                    return Press(Outcome.KILL_TOO_LATE, now)
            elif key in self._confirm_keys:
                self._deadline = None
                press = self._send(Kill("console key"), Outcome.KILL_SENT, now)
                self._killed = press.outcome is Outcome.KILL_SENT
                return press
            elif key in ABORT_KEYS:
                self._deadline = None
                return Press(Outcome.KILL_ABORTED, now)
        if key in self._kill_keys:
            if self._killed:
                return Press(Outcome.KILL_HELD, now)
            self._deadline = now + self._window
            return Press(Outcome.KILL_ARMED, now, deadline=self._deadline)
        return None

    def _send(self, action: Action, outcome: Outcome, now: float) -> Press:
        try:
            self._operate(action)
        except RuntimeError as exc:
            return Press(Outcome.NOT_SENT, now, error=str(exc))
        return Press(outcome, now)

    # ---- what the app tells it ------------------------------------------------------------

    def shown(self) -> float | None:
        """The prompt is on screen: the operator gets the full window from now.  Returns the
        new deadline (``None`` when no kill is armed any more)."""
        with self._lock:
            if self._deadline is None:
                return None
            self._deadline = max(self._deadline, self._clock() + self._window)
            return self._deadline

    def expire(self) -> bool:
        """Drop an arm whose deadline passed; True when one was dropped."""
        with self._lock:
            if self._deadline is not None and self._clock() > self._deadline:
                self._deadline = None
                return True
            return False

    def latch(self) -> None:
        """The engine is killed (by this console or by itself): kill keys send nothing."""
        with self._lock:
            self._killed = True
            self._deadline = None

    def rearmed(self) -> None:
        """The operator re-armed the kill switch: the kill key arms again."""
        with self._lock:
            self._killed = False


def _both_cases(keys: Iterable[str], reserved: frozenset[str]) -> frozenset[str]:
    found = set(keys)
    upper = {k.upper() for k in found if len(k) == 1 and k.islower()}
    return frozenset(found | (upper - reserved))


def with_emergency_keys(
    base: type[Driver], keys: EmergencyKeys, prompt: Callable[[], str | None] | None = None
) -> type[Driver]:
    """``base`` (Textual's terminal driver) asking ``keys`` about every key on its input
    thread, before the key is queued for the app.

    ``prompt`` gives the kill prompt as terminal output (cursor moves and text over the
    header's lines).  When a key arms the kill it is queued for the terminal from this thread
    at once: the app's loop may be behind a frame, a view and the engine's share of the GIL,
    and an operator who sees nothing for half a second presses again or wonders whether the
    console heard (issue 16).  The app paints the same prompt in the header when it gets
    there, and repaints the header after every emergency key, so what was drawn here never
    outlives what the app knows."""

    class EmergencyDriver(base):  # type: ignore[misc, valid-type]
        def process_message(self, message: Any) -> None:
            if isinstance(message, events.Key):
                try:
                    press = keys.press(message.key, message.character)
                    judged = True
                except Exception:  # never take the input thread down: the app judges it
                    press, judged = None, False
                if press is not None:
                    if press.outcome is Outcome.KILL_ARMED and prompt is not None:
                        self._prompt_now(prompt)
                    message = EmergencyKeyHandled(press)
                else:
                    setattr(message, JUDGED, judged)
            super().process_message(message)

        def _prompt_now(self, prompt: Callable[[], str | None]) -> None:
            writer = getattr(self, "_writer_thread", None)
            queue = getattr(writer, "_queue", None)
            if queue is None:  # not a terminal driver (headless, web): the app paints it
                return
            try:
                text = prompt()
                if text:
                    # Never wait on a slow terminal here: a full queue skips the early paint.
                    queue.put_nowait(text)
            except Exception:  # the app is going away, a full queue: the app paints it
                return

    EmergencyDriver.__name__ = f"Emergency{base.__name__}"
    return EmergencyDriver
