"""The render gate is one for the whole server: processes forked after it was made share its
slots and queue (real forked processes), a dead holder's slots come back, and a server on its
defaults never sheds 4 kept-alive clients rendering cold variants (the `make bench-peers` load
that a per-worker gate answered with hundreds of `503`s)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from images_server.admission import RenderGate
from images_server.errors import Overloaded
from tests.servers import images_server

FORK = multiprocessing.get_context("fork")


def _hold_a_slot(gate: RenderGate, taken: object, release: object) -> None:
    done = gate.admit()
    taken.set()  # type: ignore[attr-defined]
    release.wait(30)  # type: ignore[attr-defined]
    done()


def test_a_slot_taken_in_one_process_is_taken_for_all() -> None:
    gate = RenderGate(1, queue=0)
    taken, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_a_slot, args=(gate, taken, release))
    holder.start()
    try:
        assert taken.wait(30)
        with pytest.raises(Overloaded):
            gate.admit()  # the only slot is the other process's, and nobody may wait
    finally:
        release.set()
        holder.join(30)
    gate.admit()()  # given back by the other process: free here again


def test_a_waiter_gets_the_slot_another_process_gives_back() -> None:
    gate = RenderGate(1, queue=1, wait=20)
    taken, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_a_slot, args=(gate, taken, release))
    holder.start()
    try:
        assert taken.wait(30)
        release.set()
        gate.admit()()  # waits in the queue until the other process releases
    finally:
        holder.join(30)


def test_the_slots_of_a_killed_process_come_back() -> None:
    gate = RenderGate(1, queue=0)
    taken, never = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_a_slot, args=(gate, taken, never))
    holder.start()
    assert taken.wait(30)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)
    with pytest.raises(Overloaded):
        gate.admit()  # still recorded as the dead process's
    assert gate.release_dead(holder.pid) == 1  # what gunicorn's child_exit does
    gate.admit()()


def test_four_kept_alive_clients_are_never_shed(tmp_path: Path, samples: Path) -> None:
    with images_server(tmp_path / "data") as base:
        with (samples / "photo-1mp-1200x900.jpg").open("rb") as file:
            url = requests.post(f"{base}/upload", files={"file": file}, timeout=30).json()["url"]

        def client(number: int) -> list[int]:
            with requests.Session() as session:  # one kept-alive connection, as wrk -c4
                return [
                    session.get(f"{url}/resize/{300 + number * 10 + i}x", timeout=60).status_code
                    for i in range(6)
                ]

        with ThreadPoolExecutor(4) as pool:
            statuses = [status for result in pool.map(client, range(4)) for status in result]
    assert statuses == [200] * 24
