"""The campaign look (``look:``): colours checked at load time, the logo, the site's own templates."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ugc_guard import PolicyError, load_policy
from ugc_guard.policy.look import contrast_ratio

from .conftest import Harness

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#123"/></svg>'


def test_contrast_ratio_is_the_wcag_formula() -> None:
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes on white


@pytest.mark.parametrize(
    ("colours", "message"),
    [
        ({"text": "#999999"}, "policy.yaml: look.colours.text: #999999 on background #ffffff has a contrast ratio of 2.85:1; "
                              "it must be at least 4.5:1 (WCAG 2.2 AA), choose a darker or lighter colour"),
        ({"primary": "#ffcc00"}, "policy.yaml: look.colours.primary: #ffcc00 on background #ffffff has a contrast ratio of 1.51:1"),
        ({"background": "#1b1b1b"}, "look.colours.text: #1b1b1b on background #1b1b1b has a contrast ratio of 1.00:1"),
        ({"primary": "blue"}, "policy.yaml: look.colours.primary: 'blue' is not a hex colour; write it as #rrggbb, e.g. #0b4f9c"),
    ],
)  # fmt: skip
def test_unreadable_colours_are_refused_naming_the_field(policy_file: Callable[..., Path], colours: dict[str, str], message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(policy_file({"look": {"colours": colours}}))
    assert message in str(raised.value), str(raised.value)


def test_logo_file_is_inlined_and_a_missing_one_named(policy_file: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "policy").mkdir(exist_ok=True)
    (tmp_path / "policy" / "logo.svg").write_bytes(SVG)
    look = load_policy(policy_file({"look": {"logo": "logo.svg", "logo_alt": "Brand"}})).look
    assert look.logo == "data:image/svg+xml;base64," + base64.b64encode(SVG).decode() and look.logo_origin == "data:"
    assert load_policy(policy_file({"look": {"logo": "https://cdn.example/logo.png"}})).look.logo_origin == "https://cdn.example"
    assert load_policy(policy_file({"look": {"logo": "/static/logo.png"}})).look.logo_origin is None
    with pytest.raises(PolicyError) as raised:
        load_policy(policy_file({"look": {"logo": "missing.png"}}))
    assert f"look.logo: logo {tmp_path / 'policy' / 'missing.png'} cannot be read (No such file or directory)" in str(raised.value)
    with pytest.raises(PolicyError) as raised:
        load_policy(policy_file({"look": {"templates": "nowhere"}}))
    assert "look.templates: templates folder" in str(raised.value) and "does not exist" in str(raised.value)


def test_pages_wear_the_look_and_the_sites_templates(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    folder = tmp_path / "policy" / "mine"
    folder.mkdir(parents=True)
    (folder / "_site_footer.html").write_text('<footer id="brand-footer">{{ site_name }} · {{ _("me_terms_link") }}</footer>')
    (tmp_path / "policy" / "logo.svg").write_bytes(SVG)
    look: dict[str, Any] = {"name": "Brand Show", "colours": {"primary": "#7a1f5c", "background": "#fffaf0", "text": "#222222"},
                            "logo": "logo.svg", "logo_alt": "Brand Show logo", "templates": "mine"}  # fmt: skip
    client = make_harness({"look": look}).client()
    for path in ("/ugc-guard/terms", "/ugc-guard/terms?lang=nl"):
        page = client.get(path)
        assert page.status_code == 200
        text = page.text
        assert "--primary:#7a1f5c;--background:#fffaf0;--text:#222222" in text
        assert '<span class="name">Brand Show</span>' in text and 'alt="Brand Show logo"' in text
        assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    assert '<footer id="brand-footer">Brand Show · Naar de voorwaarden</footer>' in text  # the site's file, in the visitor's language
    plain = make_harness().client().get("/ugc-guard/terms")
    assert "brand-footer" not in plain.text and "img-src 'self';" in plain.headers["content-security-policy"]
