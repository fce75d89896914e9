"""GraphiQL's page and every asset it loads come from the gateway, as vendored."""

from __future__ import annotations

import hashlib
import re

import httpx

from timergate.graphql.view import GRAPHIQL


async def test_the_page_loads_only_assets_the_gateway_serves(http: httpx.AsyncClient) -> None:
    """Each script and stylesheet of GET /graphql is a path on the gateway, answered 200 with
    its type; nothing names another host."""
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 5, assets
    assert not [a for a in assets if "//" in a or a.startswith("/")], "assets must be relative"
    for asset in assets:
        response = await http.get(f"/{asset}")
        assert response.status_code == 200, asset
        kind = "text/css" if asset.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], asset


def test_the_vendored_assets_are_the_ones_recorded_with_their_licences() -> None:
    """The files match MANIFEST's checksums (as scripts/vendor-graphiql.sh wrote them), and
    each vendored package keeps its licence."""
    manifest = (GRAPHIQL / "MANIFEST").read_text().splitlines()
    recorded = dict(reversed(line.split("  ", 1)) for line in manifest)
    for name, digest in recorded.items():
        assert hashlib.sha256((GRAPHIQL / name).read_bytes()).hexdigest() == digest, name
    packages = {name.split("/")[0] for name in recorded}
    assert packages == {"graphiql-3.8.3", "react-18.2.0", "react-dom-18.2.0"}
    assert {f"{package}/LICENSE" for package in packages} <= set(recorded)
