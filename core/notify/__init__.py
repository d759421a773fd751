"""Notifications after a run: the `notify` targets of charter.yaml (webhooks and commands), their bodies,
their delivery with retries, and which failures are new since the previous run.

The modules import only the standard library at import time; the catalog and HTTP are imported by the
functions that use them, so a project without `notify` pays nothing for them.
"""
