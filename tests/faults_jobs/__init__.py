"""Fault tests of the job side: a dead job worker, a pack whose worker died, a full or
read-only data dir seen by readiness, a pack posted while the queue is down."""
