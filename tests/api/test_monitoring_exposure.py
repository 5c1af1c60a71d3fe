"""/metrics and /healthz details behind a reverse proxy on the same host: the proxy's loopback address is not
the client's. An internet client through the proxy reads neither; the local scraper still does."""

from __future__ import annotations

import httpx

from voicebot.api.app import create_app


async def _through(
    app, peer: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, httpx.Response]:
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as http:
        return await http.get("/metrics"), await http.get("/healthz")


async def test_an_internet_client_through_the_local_proxy_sees_no_metrics_or_details(api_settings, db):
    app = create_app(api_settings.model_copy(update={"trusted_proxies": "127.0.0.1/32"}), database=db)
    for headers in ({"X-Forwarded-For": "198.51.100.9"}, {}, {"X-Forwarded-For": "127.0.0.1, 198.51.100.9"}):
        metrics, health = await _through(app, "127.0.0.1", headers)
        assert metrics.status_code == 403, headers
        assert health.status_code in (200, 503) and set(health.json()) == {"status"}, headers
    # spoofing loopback in the header from outside the trusted proxies proves nothing
    metrics, health = await _through(app, "203.0.113.7", {"X-Forwarded-For": "127.0.0.1"})
    assert metrics.status_code == 403 and set(health.json()) == {"status"}


async def test_the_local_scraper_and_configured_networks_still_read_everything(api_settings, db):
    settings = api_settings.model_copy(update={"trusted_proxies": "127.0.0.1/32", "metrics_token": "scrape"})
    app = create_app(settings, database=db)  # the proxy shares loopback with the scraper: the token tells
    metrics, health = await _through(app, "127.0.0.1", {"Authorization": "Bearer scrape"})
    assert metrics.status_code == 200 and "version" in health.json()
    app = create_app(api_settings.model_copy(update={"metrics_allowed_networks": "10.0.0.0/8"}), database=db)
    metrics, health = await _through(app, "10.1.2.3")
    assert metrics.status_code == 200 and "version" in health.json()
    metrics, health = await _through(app, "127.0.0.1")  # loopback no longer listed
    assert metrics.status_code == 403 and set(health.json()) == {"status"}
