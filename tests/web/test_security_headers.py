"""Clickjacking, MIME sniffing, referrer leaks and script injection: the headers every response carries,
and a UI that keeps working under a CSP allowing only its own script files (the browser tests run under it)."""

from __future__ import annotations

import re

from voicebot.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "voicebot" / "web" / "templates"


async def test_every_response_forbids_framing_and_sniffing(client):
    for path in ("/login", "/api/v1/me", "/healthz", "/static/app.css", "/nope"):
        response = await client.get(path)
        headers = response.headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], path
    docs = await client.get("/docs")
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"


def test_templates_have_no_inline_scripts_or_handlers():
    """The CSP forbids them; a page that needs one would silently stop working in the browser."""
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name
