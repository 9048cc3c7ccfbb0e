"""`/metrics` in one process: requests by route (never by raw path) and status, latency,
bytes in and out, new originals, result-cache hits and misses, and render stages."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient

from tests.observability.conftest import metrics_of, png, upload, value

_seeds = itertools.count(1)


def test_requests_are_counted_by_route_rule_and_status(obs_client: FlaskClient) -> None:
    first, second = upload(obs_client, png(next(_seeds))), upload(obs_client, png(next(_seeds)))
    route = "/image/<hash_>/<pipeline:pipeline>"
    before = metrics_of(obs_client)
    for hash_ in (first, second):
        assert obs_client.get(f"/image/{hash_}/resize/10x").status_code == 200
    assert obs_client.get("/image/" + "0" * 64 + "/resize/10x").status_code == 404
    assert obs_client.get("/no/such/path").status_code == 404
    after = metrics_of(obs_client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"method": "GET", "route": route, "status": "200"}
    assert delta("images_http_requests_total", **ok) == 2
    assert delta("images_http_requests_total", **ok | {"status": "404"}) == 1
    assert delta("images_http_request_duration_seconds_count", **ok) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert delta("images_http_requests_total", **unmatched) == 1
    # Raw paths never become labels.
    assert not any(first in str(labels) for _, labels in after)


def test_bytes_served_originals_and_uploads(obs_client: FlaskClient) -> None:
    data = png(next(_seeds))
    before = metrics_of(obs_client)
    hash_ = upload(obs_client, data)
    upload(obs_client, data)  # the same bytes again: no new original
    served = obs_client.get(f"/image/{hash_}/resize/20x")
    after = metrics_of(obs_client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("images_uploaded_bytes_total") == 2 * len(data)
    assert delta("images_originals_stored_total", source="upload") == 1
    route = "/image/<hash_>/<pipeline:pipeline>"
    assert delta("images_http_response_bytes_total", route=route) == len(served.data)


def test_cache_hits_misses_and_stage_times(obs_client: FlaskClient) -> None:
    hash_ = upload(obs_client, png(next(_seeds)))
    before = metrics_of(obs_client)
    for _ in range(3):
        assert obs_client.get(f"/image/{hash_}/resize/30x/format/webp").status_code == 200
    after = metrics_of(obs_client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("images_result_cache_lookups_total", result="miss") == 1
    assert delta("images_result_cache_lookups_total", result="hit") == 2
    stage = "images_render_stage_duration_seconds"
    assert delta(f"{stage}_count", stage="load", engine="vips") == 1
    assert delta(f"{stage}_count", stage="decode_ops", engine="vips") == 1
    assert delta(f"{stage}_count", stage="encode", engine="vips") == 1
    assert delta(f"{stage}_sum", stage="encode", engine="vips") > 0


def test_metrics_is_the_prometheus_text_format(obs_client: FlaskClient) -> None:
    response = obs_client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "version=" in response.headers["Content-Type"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert "# TYPE images_http_requests_total counter" in text
    assert "# TYPE images_render_stage_duration_seconds histogram" in text


def test_an_unknown_method_is_one_label(obs_client: FlaskClient) -> None:
    """A client inventing methods cannot grow the label sets (no rule matches: `unmatched`)."""
    before = metrics_of(obs_client)
    assert obs_client.open("/healthz", method="BREW").status_code == 405
    after = metrics_of(obs_client)
    labels = {"method": "OTHER", "route": "unmatched", "status": "405"}
    assert (
        value(after, "images_http_requests_total", **labels)
        - value(before, "images_http_requests_total", **labels)
        == 1
    )
