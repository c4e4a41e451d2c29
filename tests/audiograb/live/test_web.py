"""The `/live` page and its assets, served by the web routes (public: no key needed)."""

from litestar.testing import create_test_client

from audiograb.web import web_routes


def test_the_page_and_its_assets_are_served_with_their_types() -> None:
    with create_test_client(route_handlers=list(web_routes)) as client:
        page = client.get("/live")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        for asset in ("live.js", "resampler-worklet.js", "live.css"):
            assert f"/live/{asset}" in page.text or asset == "resampler-worklet.js"
            response = client.get(f"/live/{asset}")
            assert response.status_code == 200, asset
            assert response.headers["x-content-type-options"] == "nosniff"
        worklet = client.get("/live/resampler-worklet.js")
        assert worklet.headers["content-type"] == "text/javascript; charset=utf-8"
        assert client.get("/live/live.css").headers["content-type"] == "text/css; charset=utf-8"
        assert 'registerProcessor("pcm16-resampler"' in worklet.text
        assert client.get("/live/live.html").status_code == 404
        assert client.get("/live/../app.py").status_code == 404
