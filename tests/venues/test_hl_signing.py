"""Hyperliquid signing through the official SDK: the reference's vectors V1-V8, nonces, keys.

Signatures are compared as integers (the SDK drops leading zero nibbles of r and s; the venue
accepts either form, reference 4.4).
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import threading
from pathlib import Path

import msgpack
import pytest

from core.venues.hyperliquid.nonces import NonceSource
from core.venues.hyperliquid.signing import Signer, action_hash, ecdsa_backend, recover_signer
from core.venues.hyperliquid.wire import (
    CancelAction,
    CancelWire,
    Limit,
    LimitOrderType,
    NoopAction,
    OrderAction,
    OrderWire,
    ScheduleCancelAction,
    action_dict,
)
from core.venues.keys import (
    KeySourceError,
    PrivateKey,
    abbreviate,
    load_private_key,
)

KEY_A = "0x0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS_A = "0x14791697260E4c9A71f18484C9f997B308e59325"
KEY_B = "0xe908f86dbb4d55ac876378565aafeabc187f6690f046459397b17d9b9a19688e"


def order(a: int, b: bool, p: str, s: str, tif: str, c: str | None = None) -> OrderWire:
    return OrderWire(a=a, b=b, p=p, s=s, r=False, t=LimitOrderType(limit=Limit(tif=tif)), c=c)  # type: ignore[arg-type]


def signer(key: str = KEY_A, *, mainnet: bool, vault: str | None = None) -> Signer:
    return Signer(PrivateKey(key), is_mainnet=mainnet, vault_address=vault)


def as_ints(sig: dict[str, object]) -> tuple[int, int, int]:
    return int(str(sig["r"]), 16), int(str(sig["s"]), 16), int(str(sig["v"]))


V2_ORDER = action_dict(OrderAction(orders=[order(1, True, "100", "100", "Gtc")]))
V3_ORDER = action_dict(
    OrderAction(orders=[order(1, True, "100", "100", "Gtc", "0x00000000000000000000000000000001")])
)
DUMMY = {"type": "dummy", "num": 100000000000}


def test_v1_action_hash_and_msgpack_bytes_match_the_sdk_vector() -> None:
    action = action_dict(OrderAction(orders=[order(4, True, "1670.1", "0.0147", "Ioc")]))
    assert msgpack.packb(action).hex() == (
        "83a474797065a56f72646572a66f72646572739186a16104a162c3a170a6313637302e31a173a6302e3031"
        "3437a172c2a17481a56c696d697481a3746966a3496f63a867726f7570696e67a26e61"
    )
    assert action_hash(action, 1677777606040, None, None).hex() == (
        "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )


@pytest.mark.parametrize(
    ("name", "action", "vault", "mainnet", "r", "s", "v"),
    [
        (
            "V2",
            V2_ORDER,
            None,
            True,
            "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
            "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
            28,
        ),
        (
            "V2t",
            V2_ORDER,
            None,
            False,
            "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
            "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
            27,
        ),
        (
            "V3",
            V3_ORDER,
            None,
            True,
            "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
            "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
            27,
        ),
        (
            "V3t",
            V3_ORDER,
            None,
            False,
            "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
            "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988",
            28,
        ),
        (
            "V4",
            DUMMY,
            None,
            True,
            "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
            "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
            27,
        ),
        (
            "V5",
            DUMMY,
            "0x1719884eb866cb12b2287399b15f7db5e7d775ea",
            True,
            "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
            "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
            28,
        ),
        (
            "V6",
            action_dict(ScheduleCancelAction()),
            None,
            True,
            "0x6cdfb286702f5917e76cd9b3b8bf678fcc49aec194c02a73e6d4f16891195df9",
            "0x6557ac307fa05d25b8d61f21fb8a938e703b3d9bf575f6717ba21ec61261b2a0",
            27,
        ),
        (
            "V6b",
            action_dict(ScheduleCancelAction(time=123456789)),
            None,
            True,
            "0x609cb20c737945d070716dcc696ba030e9976fcf5edad87afa7d877493109d55",
            "0x16c685d63b5c7a04512d73f183b3d7a00da5406ff1f8aad33f8ae2163bab758b",
            28,
        ),
    ],
)
def test_key_a_vectors_v2_to_v6(
    name: str, action: dict[str, object], vault: str | None, mainnet: bool, r: str, s: str, v: int
) -> None:
    sig = signer(mainnet=mainnet, vault=vault).sign(action, 0)
    assert as_ints(sig) == (int(r, 16), int(s, 16), v), name
    recovered = recover_signer(action, sig, 0, vault, None, is_mainnet=mainnet)
    assert recovered == ADDRESS_A


def test_v3_connection_id() -> None:
    assert action_hash(V3_ORDER, 0, None, None).hex() == (
        "0ba500cedd8f4ba6ded620a0b1cd04f124d9ba745e2e2893fcc763bcc1444af5"
    )


@pytest.mark.parametrize(
    ("action", "mainnet", "rsv"),
    [
        (
            {
                "type": "order",
                "orders": [
                    {
                        "a": 1,
                        "b": True,
                        "p": "2000.0",
                        "s": "3.5",
                        "r": False,
                        "t": {"limit": {"tif": "Ioc"}},
                    }
                ],
                "grouping": "na",
            },
            True,
            "77957e58e70f43b6b68581f2dc42011fc384538a2e5b7bf42d5b936f19fbb67360721a8598727230f6"
            "7080efee48c812a6a4442013fd3b0eed509171bef9f23f1c",
        ),
        (
            action_dict(CancelAction(cancels=[CancelWire(a=1, o=82382)])),
            True,
            "02f76cc5b16e0810152fa0e14e7b219f49c361e3325f771544c6f54e157bf9fa17ed0afc11a98596be"
            "85d5cd9f86600aad515337318f7ab346e5ccc1b03425d51b",
        ),
        (
            action_dict(CancelAction(cancels=[CancelWire(a=1, o=82382)])),
            False,
            "6ffebadfd48067663390962539fbde76cfa36f53be65abe2ab72c9db6d0db44457720db9d7c4860f14"
            "2a484f070c84eb4b9694c3a617c83f0d698a27e55fd5e01c",
        ),
    ],
)
def test_key_b_vectors_v7(action: dict[str, object], mainnet: bool, rsv: str) -> None:
    raw = bytes.fromhex(rsv)
    expected = (int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64])
    assert as_ints(signer(KEY_B, mainnet=mainnet).sign(action, 1583838)) == expected


def test_v8_expires_after_and_noop() -> None:
    nonce = 1700000000000
    cancel = action_dict(CancelAction(cancels=[CancelWire(a=0, o=123)]))
    assert (
        msgpack.packb(cancel).hex() == "82a474797065a663616e63656ca763616e63656c739182a16100a16f7b"
    )
    assert action_hash(cancel, nonce, None, 1700000060000).hex() == (
        "0a26319e31bf39ef0657116215e7a18b1ce3b84a610723920ad096477d21a651"
    )
    sig = signer(mainnet=True).sign(cancel, nonce, expires_after=1700000060000)
    assert as_ints(sig) == (
        0x7F0A096349DD8945058E32200FC963EB571C00B560C8F958C1F0484C6F21470,
        0x2169DBC26E168166934CAAD6DC84C1F8D45887C1FC97BC5B19DD3E44A9BBB1D5,
        27,
    )
    noop = action_dict(NoopAction())
    assert action_hash(noop, nonce, None, None).hex() == (
        "ef5dcef9775ebb2c5a6553314e66a6a57bd7e9b2319a869a8b17f08fa48bdcaf"
    )
    assert as_ints(signer(mainnet=True).sign(noop, nonce)) == (
        0xA094D7AFDCAFFC2E2643F31DF05A7594DE12880E6558E17021D863C868A06972,
        0x2EC74C7EFDDC03C04B04A660EFFE31F52CE3CDDD2E0B80C68486EC772CA42CE2,
        28,
    )


def test_a_wrong_signature_recovers_another_address() -> None:
    """Why the twin answers "User or API Wallet ... does not exist" to a signing bug."""
    sig = signer(mainnet=False).sign(V2_ORDER, 0)
    assert recover_signer(V2_ORDER, sig, 1, None, None, is_mainnet=False) != ADDRESS_A
    assert recover_signer(V2_ORDER, sig, 0, None, None, is_mainnet=True) != ADDRESS_A


def test_coincurve_is_the_ecdsa_backend() -> None:
    assert ecdsa_backend() == "coincurve"


def test_nonces_are_unique_and_increasing_across_threads() -> None:
    frozen = NonceSource(clock_ms=lambda: 1_700_000_000_000)  # every call in the same ms
    seen: list[list[int]] = [[] for _ in range(8)]

    def draw(out: list[int]) -> None:
        out.extend(frozen.next() for _ in range(500))

    threads = [threading.Thread(target=draw, args=(seen[i],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [n for chunk in seen for n in chunk]
    assert len(set(everything)) == 4000
    assert all(a < b for chunk in seen for a, b in itertools.pairwise(chunk))
    assert min(everything) == 1_700_000_000_000


def test_nonces_never_go_back_when_the_clock_does() -> None:
    times = iter([1000, 900, 900, 2000])
    source = NonceSource(clock_ms=lambda: next(times))
    assert [source.next() for _ in range(4)] == [1000, 1001, 1002, 2000]


def test_envelope_signs_off_the_event_loop_with_fresh_nonces() -> None:
    s = signer(mainnet=False)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = s.envelope

    def spy(action: dict[str, object], expires_after: int | None = None) -> dict[str, object]:
        threads.append(threading.get_ident())
        return original(action, expires_after)

    s.envelope = spy  # type: ignore[method-assign]

    async def run() -> list[dict[str, object]]:
        return list(await asyncio.gather(*(s.signed(V2_ORDER) for _ in range(20))))

    bodies = asyncio.run(run())
    s.close()
    assert loop_thread not in threads
    nonces = [int(str(b["nonce"])) for b in bodies]
    assert len(set(nonces)) == 20
    for body in bodies:
        assert body["vaultAddress"] is None and body["expiresAfter"] is None
        assert (
            recover_signer(
                V2_ORDER,
                body["signature"],
                int(str(body["nonce"])),
                None,
                None,
                is_mainnet=False,  # type: ignore[arg-type]
            )
            == ADDRESS_A
        )


def test_an_expiry_is_signed_into_the_envelope_D24() -> None:
    """``expiresAfter`` is part of what is signed (reference 4.1): the venue recovers our
    address only with the same expiry, so it cannot be stripped or moved in transit."""
    s = signer(mainnet=False)
    body = asyncio.run(s.signed(V2_ORDER, 1_700_000_005_000))
    s.close()
    assert body["expiresAfter"] == 1_700_000_005_000
    nonce = int(str(body["nonce"]))
    signature = body["signature"]
    assert (
        recover_signer(V2_ORDER, signature, nonce, None, 1_700_000_005_000, is_mainnet=False)  # type: ignore[arg-type]
        == ADDRESS_A
    )
    assert recover_signer(V2_ORDER, signature, nonce, None, None, is_mainnet=False) != ADDRESS_A  # type: ignore[arg-type]


def test_keys_are_never_shown_D21() -> None:
    key = PrivateKey(KEY_A)
    s = signer(mainnet=False)
    for text in (repr(key), str(key), f"{key}", repr(s), str(s)):
        assert "0123456789" not in text
    assert repr(s) == "Signer(address=0x1479…9325, network=testnet)"
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(KeySourceError) as err:
        PrivateKey("0x1234deadbeef")
    assert "deadbeef" not in str(err.value)
    assert abbreviate(ADDRESS_A) == "0x1479…9325"


def test_key_from_env_and_missing_key_message_D21() -> None:
    assert load_private_key("K", None, {"K": KEY_A}).reveal() == KEY_A
    assert load_private_key("K", None, {"K": KEY_A[2:]}).reveal() == KEY_A
    with pytest.raises(KeySourceError, match="set the K environment variable"):
        load_private_key("K", None, {})
    with pytest.raises(KeySourceError) as err:
        load_private_key("K", None, {"K": "0xnot-a-key-but-secret"})
    assert "secret" not in str(err.value)


def test_key_file_must_be_owner_only_D21(tmp_path: Path) -> None:
    path = tmp_path / "hl.key"
    path.write_text(KEY_A + "\n")
    path.chmod(0o644)
    with pytest.raises(KeySourceError) as err:
        load_private_key("K", path, {})
    assert "readable by group or others (mode 0644)" in str(err.value)
    assert f"chmod 600 {path}" in str(err.value)
    assert "0123456789" not in str(err.value)
    path.chmod(0o600)
    assert load_private_key("K", path, {"K": "ignored"}).reveal() == KEY_A
    with pytest.raises(KeySourceError, match="cannot read it"):
        load_private_key("K", tmp_path / "missing.key", {})
