"""What a process imports follows what is configured (README "Memory").

Each case runs in a fresh interpreter, as gunicorn's master and a web worker see it: the
master's module-level set-up (`images_server.gunicorn_conf`: the preload), then the app built
from the environment. On the embedded defaults no library of an unconfigured part is loaded;
configuring the part loads it, and it works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Libraries of parts the embedded defaults do not use: none may be imported on them.
UNCONFIGURED = (
    "boto3",  # S3 storage or result cache
    "botocore",
    "s3transfer",
    "wand",  # IMAGES_ENGINE=wand
    "alembic",  # migrations: `serve` migrates the embedded database before gunicorn starts
    "mako",
    "pygments",
    "psycopg",  # PostgreSQL
    "redis",  # a Redis queue or rate-limit store (huey imports it when it can)
    "opentelemetry",  # tracing, off without an OTLP endpoint
    "yaml",  # /docs, on first request
)

_SERVE = """
import json, sys
from images_server.db.migrate import migrate_embedded
from images_server.settings import load_settings
migrate_embedded(load_settings())  # what `serve` does before it starts gunicorn
print(json.dumps(sorted(sys.modules)))
"""
_WORKER = """
import json, sys
import images_server.gunicorn_conf  # the master: settings, render gate, preload
from images_server.app import create_app
create_app()  # a web worker, after the fork
print(json.dumps(sorted(sys.modules)))
"""


def _modules(tmp_path: Path, code: str = _WORKER, **env: str) -> set[str]:
    """The modules loaded after `code` runs in a fresh interpreter with only `env` set of
    the `IMAGES_*`, `OTEL_*` and `PROMETHEUS_*` variables."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("IMAGES_", "OTEL_", "PROMETHEUS_"))
    }
    metrics = tmp_path / "metrics"
    metrics.mkdir(exist_ok=True)
    clean |= {
        "IMAGES_DATA_DIR": str(tmp_path / "data"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


def test_the_embedded_defaults_load_no_library_of_an_unconfigured_part(tmp_path: Path) -> None:
    _modules(tmp_path, _SERVE)
    modules = _modules(tmp_path)
    assert "images_server.engines.vips" in modules  # preloaded for the workers
    assert "pyvips" in modules
    loaded = [name for name in UNCONFIGURED if _loaded(modules, name)]
    assert loaded == []


# Each part configured (in one interpreter, to keep the suite quick), and the library it loads.
CONFIGURED = {
    "wand": {"IMAGES_ENGINE": "wand"},
    "boto3": {
        "IMAGES_STORAGE": "s3",
        "IMAGES_S3_BUCKET": "originals",
        "IMAGES_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    },
    "opentelemetry.sdk.trace": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    "redis": {"IMAGES_QUEUE_URL": "redis://127.0.0.1:9/0"},
}


def test_each_configured_part_loads_its_library(tmp_path: Path) -> None:
    env = {key: value for part in CONFIGURED.values() for key, value in part.items()}
    modules = _modules(tmp_path, **env)
    assert [name for name in CONFIGURED if not _loaded(modules, name)] == []


def test_a_postgresql_database_loads_psycopg(tmp_path: Path) -> None:
    code = """
import json, sys
from images_server.db.engine import make_engine
make_engine("postgresql+psycopg://images:secret@127.0.0.1:9/images")
print(json.dumps(sorted(sys.modules)))
"""
    modules = _modules(tmp_path, code)
    assert _loaded(modules, "psycopg")
    assert "images_server.db.postgres" in modules


def test_a_redis_queue_works_though_huey_was_imported_without_redis(
    tmp_path: Path, redis_url: str
) -> None:
    code = f"""
import json, sys
import images_server.jobs  # huey, without redis
from huey import storage
assert storage.Redis is None and "redis" not in sys.modules
from images_server.jobs.queue import beat, build_queue, check_queue, last_beat
from images_server.settings import Settings
huey = build_queue(Settings(queue_url="{redis_url}/3"))
beat(huey, now=1234.5)
assert last_beat(huey) == 1234.5, last_beat(huey)
assert check_queue(huey) == 0
print(json.dumps(sorted(sys.modules)))
"""
    assert _loaded(_modules(tmp_path, code), "redis")


def test_starting_on_a_current_database_needs_no_alembic(tmp_path: Path) -> None:
    code = f"""
import json, sys
from images_server.db import migrate
migrate.upgrade("sqlite:///{tmp_path}/images.db")
print(json.dumps(sorted(sys.modules)))
"""
    assert _loaded(_modules(tmp_path, code), "alembic")  # a new database: Alembic migrates it
    assert not _loaded(_modules(tmp_path, code), "alembic")  # current: read with sqlite3 only


def test_the_newest_revision_read_from_the_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from images_server.db import migrate

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    assert migrate.head_revision() == head
