"""The harness itself: axe-core really runs and really fails a bad page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BAD_PAGE = """<!doctype html><html><head><title>bad</title></head><body>
<input type="text">
<p style="color:#bbb;background:#fff">pale text</p>
</body></html>"""


def test_axe_fails_a_page_with_serious_violations(page, check_accessibility):
    page.set_content(BAD_PAGE)
    with pytest.raises(AssertionError) as caught:
        check_accessibility(page)
    report = str(caught.value)
    assert "critical label" in report and "serious color-contrast" in report
    assert "serious html-has-lang" in report


def test_the_live_server_answers_on_loopback(page, live_server):
    assert live_server.startswith("http://127.0.0.1:")
    response = page.goto("/healthz")
    assert response is not None and response.status == 200
    assert page.evaluate("document.body.innerText").strip() == '{"status":"ok"}'
