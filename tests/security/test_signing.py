"""Signed URLs: the canonical form, verification, key rotation, the key file and `sign`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from images_server.cli import main
from images_server.errors import ExpiredSignature, Forbidden, InvalidSignature
from images_server.security.signing import (
    canonical_path,
    canonical_query,
    load_or_create_key,
    query_pairs,
    sign,
    signing_keys,
    verify,
)
from images_server.settings import Settings

KEY = b"k"
NOW = 1_700_000_000
CLI = str(Path(sys.executable).parent / "images-server")
# Pinned here, in the JavaScript tests and in clients/README.md: the definition, by example.
VECTOR = (
    "/image/abc/resize/200x200%5E?a=b%20c&expires=1700000060&format=webp"
    "&signature=LwMOd9zL-AcCVRqYDp3EI4SAB3KERGUx7nnSDmFlfGY"
)


def split(url: str) -> tuple[str, str]:
    path, _, query = url.partition("?")
    return path, query


def test_reference_vector() -> None:
    assert sign("/image/abc/resize/200x200%5E", "format=webp&a=b+c", KEY, NOW + 60) == VECTOR
    assert verify(*split(VECTOR), keys=[KEY], now=NOW) == NOW + 60


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/image/h/resize/200x200%5E", "/image/h/resize/200x200%5E"),
        ("/image/h/resize/200x200^", "/image/h/resize/200x200%5E"),
        ("/image/h/resize/200x200%5e", "/image/h/resize/200x200%5E"),
        ("/a/500x500!/500x500%21", "/a/500x500%21/500x500%21"),
        ("/crop/200x100+50+50", "/crop/200x100%2B50%2B50"),
        ("/resize/10%25/%2541", "/resize/10%25/%2541"),
        ("/a b/a%20b", "/a%20b/a%20b"),
        ("/café/caf%C3%A9", "/caf%C3%A9/caf%C3%A9"),
        ("/~._-/@A/a:b", "/~._-/%40A/a%3Ab"),
        ("/%zz/%4", "/%25zz/%254"),
        ("/%EF%BB%BF%C3(", "/%EF%BB%BF%EF%BF%BD%28"),
    ],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("b=2&a=2&a=10&c", "a=10&a=2&b=2&c="),
        ("q=a+b%20c%2B&&x=%E2%82%AC", "q=a%20b%20c%2B&x=%E2%82%AC"),
        ("k=v=w&signature=zz&e=", "e=&k=v%3Dw"),
        ("size=thumb&format=webp", "format=webp&size=thumb"),
        ("%F0%9F%98%80=1&\uff21=2", "%EF%BC%A1=2&%F0%9F%98%80=1"),
        ("x=%5e&x=^&x=!", "x=%21&x=%5E&x=%5E"),
    ],
)
def test_canonical_query(query: str, canonical: str) -> None:
    assert canonical_query(query_pairs(query)) == canonical


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/image/h", ""),
        ("/image/h/resize/200x200%5E", "format=webp"),
        ("/image/h/resize/500x500%21/crop/200x100+50+50", "size=thumb&format=avif"),
        ("/external", "url=https%3A%2F%2Fexample.com%2Fa%20b.jpg&operations=resize/300x"),
        ("/image/h/filter/grayscale", "note=caf%C3%A9&note=%F0%9F%98%80&empty="),
    ],
)
def test_signed_urls_verify(path: str, query: str) -> None:
    signed = sign(path, query, KEY)
    assert verify(*split(signed), keys=[KEY], now=NOW) is None
    expiring = sign(path, query, KEY, expires=NOW + 10)
    assert verify(*split(expiring), keys=[KEY], now=NOW + 10) == NOW + 10


def test_equivalent_spellings_verify() -> None:
    signed_path, signed_query = split(sign("/image/h/resize/2x2%5E", "a=b+c&d=1", KEY))
    signature = signed_query.rpartition("&")[2]
    for path, query in [("/image/h/resize/2x2^", "d=1&a=b%20c"), ("/image/h/resize/2x2%5e", "")]:
        query = query or "a=b c&d=%31"
        assert verify(path, f"{signature}&{query}", [KEY], NOW) is None
    assert signed_path == "/image/h/resize/2x2%5E"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/image/h/resize/200x", "/image/h/resize/201x"),
        ("/image/h/resize/200x", "/image/g/resize/200x"),
        ("format=webp", "format=avif"),
        ("format=webp", "format=webp&size=thumb"),
        ("format=webp&", "format=webp&format=avif&"),
        ("expires=1700000060", "expires=1800000000"),
        ("expires=1700000060&", ""),
    ],
)
def test_tampering_is_refused(old: str, new: str) -> None:
    url = sign("/image/h/resize/200x", "format=webp", KEY, expires=NOW + 60)
    assert old in url
    with pytest.raises(InvalidSignature) as caught:
        verify(*split(url.replace(old, new, 1)), keys=[KEY], now=NOW)
    assert (caught.value.status, caught.value.code) == (403, "invalid_signature")
    assert isinstance(caught.value, Forbidden)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=webp", "missing"),
        ("signature=", "bad signature"),
        ("signature=a&signature=b", "more than once"),
    ],
)
def test_missing_or_malformed_signatures(query: str, message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        verify("/image/h/resize/200x", query, [KEY], NOW)


@pytest.mark.parametrize("expires", ["soon", "-1", "1.5", "1e9", "\uff11\uff12"])
def test_expires_must_be_unix_seconds(expires: str) -> None:
    url = sign("/image/h", f"expires={expires}", KEY)
    with pytest.raises(InvalidSignature, match="unix seconds"):
        verify(*split(url), keys=[KEY], now=NOW)


def test_expired_signatures_are_refused() -> None:
    url = sign("/image/h/resize/200x", "", KEY, expires=NOW)
    assert verify(*split(url), keys=[KEY], now=NOW) == NOW
    with pytest.raises(ExpiredSignature) as caught:
        verify(*split(url), keys=[KEY], now=NOW + 1)
    assert (caught.value.status, caught.value.code) == (403, "expired_signature")


def test_an_old_key_verifies_while_it_is_listed() -> None:
    url = sign("/image/h/resize/200x", "", b"old-key")
    assert verify(*split(url), keys=[b"new-key", b"old-key"], now=NOW) is None
    with pytest.raises(InvalidSignature):
        verify(*split(url), keys=[b"new-key"], now=NOW)


def test_every_key_is_compared_in_constant_time(
    compare_digest_calls: list[tuple[bytes, bytes]],
) -> None:
    calls = compare_digest_calls
    url = sign("/image/h/resize/200x", "", b"first")
    verify(*split(url), keys=[b"first", b"second", b"third"], now=NOW)
    assert len(calls) == 3  # no early exit on the first match
    assert calls[0][1] == url.rpartition("=")[2].encode()


def test_keys_come_from_the_setting_in_order(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="new, old")
    assert signing_keys(settings) == (b"new", b"old")
    assert not (tmp_path / "secret_key").exists()


def test_a_generated_key_is_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    (key,) = signing_keys(settings)
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_keys(settings) == (key,)
    assert sorted(os.listdir(path.parent)) == ["secret_key"]  # no temp file left behind


def test_an_empty_key_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        load_or_create_key(tmp_path / "secret_key")


def test_racing_threads_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    barrier = threading.Barrier(16)
    keys: list[bytes] = []

    def create() -> None:
        barrier.wait()
        keys.append(load_or_create_key(path))

    threads = [threading.Thread(target=create) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 16
    assert set(keys) == {path.read_bytes().strip()}


RACER = """
import sys
from pathlib import Path
from images_server.security.signing import load_or_create_key
print("ready", flush=True)
sys.stdin.readline()
print(load_or_create_key(Path(sys.argv[1])).decode())
"""


def test_racing_processes_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for racer in racers:  # every racer has imported everything: now they start together
        assert racer.stdout is not None
        assert racer.stdout.readline() == "ready\n"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    keys = {racer.communicate(timeout=30)[0].strip().encode() for racer in racers}
    assert keys == {path.read_bytes().strip()}
    assert sorted(os.listdir(tmp_path)) == ["secret_key"]


def test_sign_command(tmp_path: Path) -> None:
    env = {"IMAGES_DATA_DIR": str(tmp_path), "IMAGES_SECRET_KEY": "first,second"}
    result = CliRunner().invoke(
        main,
        ["sign", "/image/h/resize/200x200^?format=webp", "--base-url", "https://i.test/"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "i.test", "/image/h/resize/200x200%5E")
    assert verify(url.path, url.query, [b"first"], NOW) is None


def test_sign_command_expires(tmp_path: Path) -> None:
    env = {"IMAGES_DATA_DIR": str(tmp_path), "IMAGES_SECRET_KEY": "first"}
    result = CliRunner().invoke(main, ["sign", "/image/h/resize/9x", "--expires-in", "60"], env=env)
    assert result.exit_code == 0, result.output
    path, query = split(result.output.strip())
    expires = verify(path, query, [b"first"], NOW)
    assert expires is not None
    with pytest.raises(ExpiredSignature):
        verify(path, query, [b"first"], expires + 1)


@pytest.mark.parametrize("args", [["image/h"], ["/image/h#x"], ["/image/h", "--expires-in", "0"]])
def test_sign_command_refuses_bad_input(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["sign", *args], env={"IMAGES_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert not (tmp_path / "secret_key").exists()


def test_sign_command_without_a_usable_key(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    result = CliRunner().invoke(main, ["sign", "/image/h"], env={"IMAGES_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "no signing key" in result.output


def test_sign_console_script_uses_the_generated_key(tmp_path: Path) -> None:
    env = os.environ | {"IMAGES_DATA_DIR": str(tmp_path)}
    env.pop("IMAGES_SECRET_KEY", None)
    done = subprocess.run(
        [CLI, "sign", "/image/h/resize/200x?size=thumb", "--expires-in", "3600"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key = (tmp_path / "secret_key").read_bytes().strip()
    path, query = split(done.stdout.strip())
    assert verify(path, query, [key], NOW) is not None
    assert signing_keys(Settings(data_dir=tmp_path)) == (key,)
