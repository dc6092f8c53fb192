"""Fuzzing the loopback twin's own parsers: what a client sends never breaks the fake exchange.

The twin reads outside input -- ``POST /info`` and ``POST /exchange`` bodies, WebSocket texts
(subscriptions, ``post`` requests) -- and answers like Hyperliquid: HTTP 422 for a body its
parser refuses, ``{"status":"err",...}`` or per-item ``{"error":...}`` for an action it refuses,
an ``error`` channel message on the WebSocket.  Here it gets arbitrary bytes, JSON of the wrong
shape, deep nesting and real signed actions with hostile values put in (NaN, infinities,
negative, zero and huge numbers, bools where ints go, huge nonces, unknown action types, missing
keys, wrong signatures).  Whatever comes in:

* no exception escapes ``Twin.http`` or ``Twin._on_ws_text`` (nor a ``post`` task it starts);
* the answer is an HTTP reply (never ``None``: no answer is dropped on purpose here) and every
  WebSocket message sent is JSON;
* a request that is refused leaves the exchange as it was (open orders, position, leverage,
  the dead man's switch, the fills).

The handlers are called directly (no sockets); the twin runs on a ``VirtualClock`` in a still
market with rate limits out of the way, so nothing depends on the wall clock but nonces.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import VirtualClock
from core.simconfig import FlowConfig, SimConfig
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.signing import Signer
from core.venues.keys import PrivateKey
from core.venues.loopback.faults import TwinFaults
from core.venues.loopback.server import HttpReply
from core.venues.loopback.twin import Twin
from core.venues.loopback.twin.common import Peer
from tests.fuzz.test_fuzz_hl_wire import HOSTILE, spoilt
from tests.hl_loopback import KEY, OTHER_KEY

SIGNER = Signer(PrivateKey(KEY), is_mainnet=False)
STRANGER = Signer(PrivateKey(OTHER_KEY), is_mainnet=False)
ACCOUNT = SIGNER.address.lower()
C1, C2, C3 = ("0x" + "0" * 31 + str(i) for i in (1, 2, 3))
# Rate limits would turn most of the fuzz into 429s before it reaches the parsers; the volume
# gate every scheduleCancel into the same refusal.
CANCEL_LEG_DONE = "Error placing new order during modify"
FAULTS = TwinFaults(ip_weight_per_minute=10**12, address_budget=10**12, dead_man_min_volume=0)
BOGUS_SIGNATURE = {"r": "0x" + "1" * 64, "s": "0x" + "2" * 64, "v": 27}
INFO_TYPES = [
    "meta",
    "metaAndAssetCtxs",
    "l2Book",
    "allMids",
    "openOrders",
    "frontendOpenOrders",
    "clearinghouseState",
    "userFills",
    "userFillsByTime",
    "orderStatus",
    "userRateLimit",
    "candleSnapshot",
]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
T = TypeVar("T")


# ---- a twin, with two orders of ours resting ------------------------------------------------


class FakeWs:
    """What ``WsPeer`` offers the twin, keeping what is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed = False

    async def send(self, text: str) -> None:
        self.sent.append(text)

    def send_nowait(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def _order(price: str, *, buy: bool, cloid: str | None, tif: str = "Alo") -> dict[str, Any]:
    wire: dict[str, Any] = {
        "a": 0,
        "b": buy,
        "p": price,
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": tif}},
    }
    if cloid is not None:
        wire["c"] = cloid
    return wire


def _body(action: Any, signer: Signer = SIGNER) -> dict[str, Any]:
    """A well-signed envelope when the action can be signed, a bogus signature otherwise."""
    nonce = SIGNER.nonces.next()
    try:
        signature = signer.sign(action, nonce)
    except Exception:  # an action msgpack cannot carry (a number past 64 bits, ...)
        signature = BOGUS_SIGNATURE
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


async def _started() -> tuple[Twin, list[int]]:
    """A started twin with a bid (cloid C1) and an ask (C2) of ours resting; their oids."""
    twin = Twin(SimConfig(flow=FlowConfig.still()), VirtualClock(), account=ACCOUNT, faults=FAULTS)
    await twin.start()
    action = {
        "type": "order",
        "orders": [_order("2990", buy=True, cloid=C1), _order("3010", buy=False, cloid=C2)],
        "grouping": "na",
    }
    reply = await twin.http("POST", "/exchange", json.dumps(_body(action)).encode())
    assert reply is not None and reply.status == 200, reply
    statuses = json.loads(reply.body)["response"]["data"]["statuses"]
    oids = [s["resting"]["oid"] for s in statuses]
    assert twin.open_order_count() == 2
    return twin, oids


def _templates(oids: list[int]) -> dict[str, dict[str, Any]]:
    """One real action of every kind the twin knows, each one accepted as it is."""
    return {
        "order": {
            "type": "order",
            "orders": [_order("2995", buy=True, cloid=C3), _order("3005", buy=False, cloid=None)],
            "grouping": "na",
        },
        "order_ioc": {
            "type": "order",
            "orders": [_order("3001", buy=True, cloid=C3, tif="Ioc")],
            "grouping": "na",
        },
        "cancel": {"type": "cancel", "cancels": [{"a": 0, "o": oids[0]}]},
        "cancelByCloid": {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": C2}]},
        "batchModify": {
            "type": "batchModify",
            "modifies": [{"oid": oids[0], "order": _order("2991", buy=True, cloid=C1)}],
        },
        "scheduleCancel": {"type": "scheduleCancel", "time": epoch_ms() + 60_000},
        "updateLeverage": {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5},
        "noop": {"type": "noop"},
    }


def _state(twin: Twin) -> tuple[object, ...]:
    orders = sorted(
        (o.oid, o.cloid, o.side.value, o.price, o.size) for o in twin.exchange.open_orders()
    )
    return (
        orders,
        twin.position,
        twin.exchange.leverage,
        twin.dead_man_armed,
        twin.fills_count,
        sorted(twin.fill_tids),
    )


def _books(twin: Twin) -> tuple[object, ...]:
    """What the venue keeps of the requests themselves: nonces seen, requests counted."""
    return ({k: list(v) for k, v in twin._nonces.items()}, twin._requests_used)


def _refused(status: int, answer: Any) -> bool:
    """A 4xx/5xx, a top-level ``err``, or an answer whose every item is an error.  A modify
    whose new order fails is not a refusal: its cancel leg happened (reference 3.4)."""
    if status != 200:
        return True
    assert isinstance(answer, dict) and answer.get("status") in ("ok", "err"), answer
    if answer["status"] == "err":
        return True
    data = answer["response"].get("data")
    if data is None:
        return False
    statuses = data["statuses"]
    return bool(statuses) and all(
        isinstance(s, dict) and "error" in s and not s["error"].startswith(CANCEL_LEG_DONE)
        for s in statuses
    )


def _run(scenario: Callable[[Twin, list[int]], Awaitable[T]]) -> T:
    async def main() -> T:
        twin, oids = await _started()
        try:
            return await scenario(twin, oids)
        finally:
            await twin.close()

    return asyncio.run(main())


async def _http_case(twin: Twin, path: str, body: bytes) -> HttpReply:
    """One request: it must be answered, and a refusal must change nothing."""
    before, books = _state(twin), _books(twin)
    reply = await twin.http("POST", path, body)
    assert reply is not None, "an answer was dropped"
    assert 200 <= reply.status < 600, reply
    if reply.status == 200:
        answer = json.loads(reply.body)
    else:
        assert reply.status >= 400, reply
        answer = reply.body.decode()
        assert _books(twin) == books, f"a body refused with {reply.status} used a nonce"
    if path == "/exchange" and _refused(reply.status, answer):
        assert _state(twin) == before, f"a refused request changed the exchange: {answer!r}"
    if path == "/info":
        assert _state(twin) == before, "a query changed the exchange"
    return reply


async def _ws_case(twin: Twin, text: str) -> list[Any]:
    """One WebSocket text through the twin's handler; the messages it sent back (parsed)."""
    fake = FakeWs()
    client = Peer(fake, 0.0)  # type: ignore[arg-type]  # the fake speaks WsPeer's API
    twin._peers.add(client)
    before = _state(twin)
    await twin._on_ws_text(client, text)
    tasks = list(twin._post_tasks)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        assert not isinstance(result, BaseException), f"a post task raised {result!r}"
    twin._peers.discard(client)
    messages = [json.loads(m) for m in fake.sent]
    assert all(isinstance(m, dict) and "channel" in m for m in messages), messages
    posts = [m["data"] for m in messages if m["channel"] == "post"]
    refused = any(m["channel"] == "error" for m in messages) or any(
        p["response"]["type"] == "error"
        or (p["response"]["type"] == "action" and _refused(200, p["response"]["payload"]))
        for p in posts
    )
    if refused or not posts:
        assert _state(twin) == before, f"a refused message changed the exchange: {messages!r}"
    return messages


# ---- strategies -------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(["type", "action", "nonce", "signature", "user", "oid", "method", "id"])
SHAPED = st.dictionaries(KEYS, JSON | HOSTILE, max_size=5)
INFO = st.fixed_dictionaries(
    {"type": st.sampled_from(INFO_TYPES)},
    optional={
        "user": st.just(ACCOUNT) | HOSTILE,
        "oid": HOSTILE | st.sampled_from([C1, C2, 0, 1, 2**64]),
        "startTime": HOSTILE,
        "endTime": HOSTILE,
        "coin": HOSTILE,
    },
)
ODD_BYTES = st.sampled_from(
    [
        b"",
        b"null",
        b"NaN",
        b"-Infinity",
        b"1e999999",
        b"1" * 5000,
        b"\xff\xfe\x00",
        b'"\\ud800"',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"type":"meta","user":' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"type":"meta"}' * 2,
        b"\xef\xbb\xbf{}",
    ]
)
SIGNATURES = st.one_of(
    st.just(BOGUS_SIGNATURE),
    st.fixed_dictionaries({"r": HOSTILE, "s": HOSTILE, "v": HOSTILE}),
    st.fixed_dictionaries(
        {
            "r": st.sampled_from(["0x0", "0x" + "f" * 64, "zz", "0x" + "1" * 200]),
            "s": st.sampled_from(["0x0", "0x" + "f" * 64, "0x" + "1" * 64]),
            "v": st.sampled_from([0, 1, 27, 28, 29, 2**64, -1]),
        }
    ),
    HOSTILE,
)


HOSTILE_STRINGS = st.sampled_from(
    [
        "NaN",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "-1",
        "-0",
        "0",
        "0.0",
        "0.00001",
        "1e90",
        "1e-90",
        "1e999999999",
        "9" * 40,
        "3000.005",
        "2990.00000000000000000000000001",
        "",
        " 1",
        "1_000",
        "0x10",
        "\u0661\u0660",
        "0x" + "g" * 32,
        "0x" + "0" * 31 + "1 ",
        "0x" + "0" * 31 + "1\n",
        "0X" + "0" * 32,
        C1.upper(),
        "0x" + "a" * 200,
    ]
) | st.text(max_size=6)
HOSTILE_INTS = (
    st.sampled_from(
        [
            0,
            -1,
            1,
            2,
            24,
            25,
            26,
            2**31,
            2**53 + 1,
            2**63 - 1,
            2**63,
            2**64 - 1,
            2**64,
            2**70,
            -(2**63),
        ]
    )
    | st.integers()
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _leaves(value, (*path, i))]
    return [path] if path and path[-1] != "type" else []


@st.composite
def retyped(draw: st.DrawFn, template: Any) -> Any:
    """``template`` with one to three leaves given a hostile value of the *same* JSON type, so
    the strict parser takes it and the value reaches the order path (NaN and huge prices,
    zero and negative sizes, ints past 64 bits, cloids that are no cloids, flipped bools)."""
    data = copy.deepcopy(template)
    leaves = _leaves(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3)) if leaves else 0):
        *where, last = draw(st.sampled_from(leaves))
        parent = data
        for step in where:
            parent = parent[step]
        old = parent[last]
        if isinstance(old, bool):
            parent[last] = draw(st.booleans())
        elif isinstance(old, int):
            parent[last] = draw(HOSTILE_INTS)
        elif isinstance(old, str):
            parent[last] = draw(HOSTILE_STRINGS)
    return data


@st.composite
def hostile_bodies(draw: st.DrawFn, oids: list[int]) -> dict[str, Any]:
    """A real action spoilt, then (mostly) signed by our key so it gets past the signature and
    into the order path; sometimes the envelope (nonce, signature, expiry, vault) is spoilt."""
    templates = _templates(oids)
    kind = draw(st.sampled_from(sorted(templates)))
    spoil = draw(st.sampled_from(["retyped", "retyped", "retyped", "spoilt", "as is"]))
    action = templates[kind]
    if spoil == "retyped":
        action = draw(retyped(action))
    elif spoil == "spoilt":
        action = draw(spoilt(action))
    if draw(st.integers(0, 9)) == 0:
        action = {**action, "type": draw(st.sampled_from(["withdraw3", "usdSend", "", "ORDER"]))}
    body = _body(action, SIGNER if draw(st.integers(0, 5)) else STRANGER)
    envelope = draw(
        st.sampled_from(["as signed"] * 6 + ["nonce", "signature", "expiry", "vault", "key"])
    )
    if envelope == "nonce":
        body["nonce"] = draw(
            HOSTILE | st.sampled_from([0, -1, 2**63, 2**64, 2**64 + 1, 10**30, True])
        )
    elif envelope == "signature":
        body["signature"] = draw(SIGNATURES)
    elif envelope == "expiry":
        body["expiresAfter"] = draw(HOSTILE | st.sampled_from([0, 2**64, epoch_ms() - 1]))
    elif envelope == "vault":
        body["vaultAddress"] = draw(HOSTILE)
    elif envelope == "key":
        body.pop(draw(st.sampled_from(sorted(body))))
    return body


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# ---- HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(_templates([1, 2])))
def test_every_action_template_as_signed_is_accepted(kind: str) -> None:
    """The templates are real actions the twin executes (the fuzz starts from actions that go
    deep into the order path, not ones turned away at the door)."""

    async def scenario(twin: Twin, oids: list[int]) -> None:
        reply = await _http_case(twin, "/exchange", _dumps(_body(_templates(oids)[kind])))
        answer = json.loads(reply.body)
        assert reply.status == 200 and not _refused(200, answer), answer

    _run(scenario)


@FUZZ
@given(path=st.sampled_from(["/info", "/exchange"]), body=st.binary(max_size=64) | ODD_BYTES)
def test_arbitrary_bytes_get_an_answer(path: str, body: bytes) -> None:
    async def scenario(twin: Twin, _: list[int]) -> None:
        await _http_case(twin, path, body)

    _run(scenario)


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "PUT", ""]),
    path=st.sampled_from(["/info", "/exchange", "/ws", "/", "", "/info/../exchange"])
    | st.text(max_size=12),
    body=st.binary(max_size=16),
)
def test_any_method_and_path_gets_an_answer(method: str, path: str, body: bytes) -> None:
    async def scenario(twin: Twin, _: list[int]) -> None:
        before = _state(twin)
        reply = await twin.http(method, path, body)
        assert reply is not None and 200 <= reply.status < 600, reply
        assert _state(twin) == before

    _run(scenario)


@FUZZ
@given(path=st.sampled_from(["/info", "/exchange"]), value=JSON | SHAPED | INFO | HOSTILE)
def test_json_of_the_wrong_shape_gets_an_answer(path: str, value: Any) -> None:
    async def scenario(twin: Twin, _: list[int]) -> None:
        await _http_case(twin, path, _dumps(value))

    _run(scenario)


@FUZZ
@given(data=st.data())
def test_hostile_actions_are_refused_or_executed_never_half(data: st.DataObject) -> None:
    async def scenario(twin: Twin, oids: list[int]) -> None:
        body = data.draw(hostile_bodies(oids))
        await _http_case(twin, "/exchange", _dumps(body))

    _run(scenario)


# ---- WebSocket ------------------------------------------------------------------------------

WS_METHODS = st.sampled_from(["ping", "subscribe", "unsubscribe", "post", "Post", ""]) | HOSTILE
SUBSCRIPTIONS = st.fixed_dictionaries(
    {"type": st.sampled_from(["l2Book", "trades", "orderUpdates", "userFills", "userEvents", "x"])},
    optional={"coin": st.just("ETH") | HOSTILE, "user": st.just(ACCOUNT) | HOSTILE},
)


@FUZZ
@given(text=st.text(max_size=64) | ODD_BYTES.map(lambda b: b.decode("utf-8", "replace")))
def test_arbitrary_ws_text_gets_an_error_message(text: str) -> None:
    async def scenario(twin: Twin, _: list[int]) -> None:
        await _ws_case(twin, text)

    _run(scenario)


@FUZZ
@given(
    message=st.fixed_dictionaries(
        {"method": WS_METHODS},
        optional={
            "subscription": SUBSCRIPTIONS | JSON,
            "id": HOSTILE | st.integers(0, 10),
            "request": JSON | SHAPED,
        },
    )
    | JSON
)
def test_ws_messages_of_the_wrong_shape_get_an_answer(message: Any) -> None:
    async def scenario(twin: Twin, _: list[int]) -> None:
        await _ws_case(twin, json.dumps(message))

    _run(scenario)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["action", "info", "Action", None]))
def test_hostile_ws_posts_are_refused_or_executed_never_half(
    data: st.DataObject, kind: str | None
) -> None:
    async def scenario(twin: Twin, oids: list[int]) -> None:
        payload = data.draw(hostile_bodies(oids) if kind != "info" else INFO)
        message = {"method": "post", "id": 7, "request": {"type": kind, "payload": payload}}
        messages = await _ws_case(twin, json.dumps(message))
        assert messages, "a post went unanswered"

    _run(scenario)


# ---- regressions ----------------------------------------------------------------------------

DEEP_TEXTS = [
    "[" * 5000 + "]" * 5000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    '{"type":"meta","user":' + "[" * 5000 + "]" * 5000 + "}",
    '{"action":' + "[" * 5000 + "]" * 5000 + ',"nonce":1,"signature":{}}',
]


@pytest.mark.parametrize("path", ["/info", "/exchange"])
@pytest.mark.parametrize("text", DEEP_TEXTS, ids=["list", "object", "in-info", "in-action"])
def test_deeply_nested_http_bodies_get_422(path: str, text: str) -> None:
    """5000 nested lists made ``json.loads`` raise ``RecursionError`` (not a ``ValueError``),
    which escaped ``Twin.http``: the server dropped the connection with no answer.  Nesting
    deeper than serde_json's limit (128) is now HTTP 422, as the venue answers it."""

    async def scenario(twin: Twin, _: list[int]) -> None:
        reply = await _http_case(twin, path, text.encode())
        assert reply.status == 422, reply
        assert reply.body.decode().startswith("Failed to deserialize the JSON body")

    _run(scenario)


@pytest.mark.parametrize(
    "text",
    [
        *DEEP_TEXTS,
        '{"method":"subscribe","subscription":' + "[" * 5000 + "]" * 5000 + "}",
        '{"method":"post","id":1,"request":' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["list", "object", "in-info", "in-action", "in-subscription", "in-post"],
)
def test_deeply_nested_ws_texts_get_an_error_message(text: str) -> None:
    """The same ``RecursionError`` escaped ``Twin._on_ws_text`` and ended the client's
    WebSocket handler; it is now an ``error`` channel message and the socket stays up."""

    async def scenario(twin: Twin, _: list[int]) -> None:
        messages = await _ws_case(twin, text)
        assert [m["channel"] for m in messages] == ["error"], messages
        assert messages[0]["data"].startswith("Error parsing JSON into valid websocket request")

    _run(scenario)


def test_nesting_just_under_the_limit_is_still_parsed() -> None:
    """The depth cap refuses only what the venue refuses (serde_json reads 127 nested arrays
    or objects and refuses the 128th)."""

    async def scenario(twin: Twin, _: list[int]) -> None:
        for levels, status in ((126, 200), (127, 422)):  # plus the body object itself
            user = "[" * levels + "]" * levels
            body = f'{{"type":"meta","user":{user}}}'.encode()
            assert (await _http_case(twin, "/info", body)).status == status

    _run(scenario)


BAD_CLOID_ACTIONS = {
    "order": lambda oids, bad: {
        "type": "order",
        "orders": [_order("2995", buy=True, cloid=C3), _order("2994", buy=True, cloid=bad)],
        "grouping": "na",
    },
    "cancelByCloid": lambda oids, bad: {
        "type": "cancelByCloid",
        "cancels": [{"asset": 0, "cloid": C1}, {"asset": 0, "cloid": bad}],
    },
    "modify-order": lambda oids, bad: {
        "type": "batchModify",
        "modifies": [{"oid": oids[0], "order": _order("2991", buy=True, cloid=bad)}],
    },
    "modify-target": lambda oids, bad: {
        "type": "batchModify",
        "modifies": [{"oid": bad, "order": _order("2991", buy=True, cloid=C3)}],
    },
}


@pytest.mark.parametrize("kind", sorted(BAD_CLOID_ACTIONS))
@pytest.mark.parametrize("bad", ["NaN", "", C3 + "\n", C3[:-1], "0x" + "g" * 32], ids=repr)
def test_a_malformed_cloid_is_refused_before_the_nonce_is_used(kind: str, bad: str) -> None:
    """A signed order whose cloid was not 0x + 32 hex digits got HTTP 422 only after its
    signature was checked, its nonce kept and the address budget charged (and earlier orders of
    the batch half-registered): the fixed body, sent again with the same nonce, was refused as a
    duplicate.  ``C3 + "\\n"`` was not refused at all (``$`` matches before a final newline), and
    cancelByCloid/modify never checked theirs.  The venue parses a cloid as 16 bytes: 422 before
    anything else, and the same nonce still works."""

    async def scenario(twin: Twin, oids: list[int]) -> None:
        body = _body(BAD_CLOID_ACTIONS[kind](oids, bad))
        reply = await _http_case(twin, "/exchange", _dumps(body))
        assert reply.status == 422, reply
        assert "invalid cloid" in reply.body.decode()
        noop = {"type": "noop"}
        again = {**body, "action": noop, "signature": SIGNER.sign(noop, body["nonce"])}
        answer = json.loads((await _http_case(twin, "/exchange", _dumps(again))).body)
        assert answer == {"status": "ok", "response": {"type": "default"}}, answer

    _run(scenario)
