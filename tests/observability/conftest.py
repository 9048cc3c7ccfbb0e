"""An app on libvips in a temp dir, and reading `/metrics` the way Prometheus does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from images_server.app import create_app
from images_server.settings import Settings
from tests.images import quadrant_bytes


@pytest.fixture
def obs_app(tmp_path: Path) -> Flask:
    return create_app(Settings(data_dir=tmp_path / "data", engine="vips"))


@pytest.fixture
def obs_client(obs_app: Flask) -> Iterator[FlaskClient]:
    with obs_app.test_client() as client:
        yield client


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when it has not been recorded yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def metrics_of(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return scrape(response.get_data(as_text=True))


def upload(client: FlaskClient, data: bytes) -> str:
    response = client.post("/upload", data=data, content_type="image/png")
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["hash"])


def png(seed: int) -> bytes:
    """A PNG whose bytes no other test uploads (so it is a new original)."""
    return quadrant_bytes(64 + seed, 48, "png")
