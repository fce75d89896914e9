"""Fake vendors: real HTTP servers that behave like each vendor's timer API.

``timergate fake <vendor>`` runs one and prints, as its first line, a JSON object with the
``base_url`` to connect to, the ``credentials`` that ``connectProvider`` takes and a ``seed``
of objects to time. Each vendor's module offers ``create_fake(...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from timergate.fakes.base import Fake, FakeControl, FakeDescription, serve_fake

__all__ = ["VENDORS", "Fake", "FakeControl", "FakeDescription", "create_fake", "serve_fake"]

#: Vendor name on the command line → module offering ``create_fake``.
VENDORS: dict[str, str] = {
    "noko": "timergate.fakes.noko",
    "seventime": "timergate.fakes.seventime",
    "worksection": "timergate.fakes.worksection",
    "accelo": "timergate.fakes.accelo",
    "ftrack": "timergate.fakes.ftrack",
}


def create_fake(vendor: str, **options: Any) -> Fake:
    """A new fake of ``vendor`` with its seed data; ``options`` go to the vendor's factory."""
    try:
        module = importlib.import_module(VENDORS[vendor])
    except KeyError:
        known = ", ".join(sorted(VENDORS)) or "none yet"
        raise ValueError(f"no fake for {vendor!r}; fakes: {known}") from None
    fake: Fake = module.create_fake(**options)
    return fake
