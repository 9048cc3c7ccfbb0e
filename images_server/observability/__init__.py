"""Observability: Prometheus metrics (`metrics`), JSON logs with a request id (`logs`),
OpenTelemetry traces (`tracing`), and the Flask hooks that feed them (`hooks`).

This package's `__init__` imports nothing, so gunicorn's master can read `logs.logging_config`
without importing prometheus-client (which must first see `PROMETHEUS_MULTIPROC_DIR`) or the
app and its image libraries (which must load in each worker, after the fork).
"""
