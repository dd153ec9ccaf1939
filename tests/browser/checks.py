"""Accessibility checks run inside the page: axe-core when npm can install it here, and a small check of
our own that always runs (every form control has a label; text reaches 4.5:1 contrast on its background)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

AXE_VERSION = "4"
AXE_RULES = ["label", "color-contrast", "aria-valid-attr-value", "aria-allowed-attr", "document-title", "html-has-lang",
             "duplicate-id-aria", "form-field-multiple-labels", "link-name", "button-name", "select-name", "region",
             "landmark-one-main", "heading-order", "list", "listitem", "definition-list", "dlitem"]  # fmt: skip

OWN_CHECK = r"""
function luminance(rgb) {
  const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function colour(text) { const m = text.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const p = m[1].split(',').map(Number); return {rgb: p.slice(0, 3), alpha: p.length > 3 ? p[3] : 1}; }
function background(element) {
  for (let node = element; node; node = node.parentElement) {
    const c = colour(getComputedStyle(node).backgroundColor);
    if (c && c.alpha > 0) return c.rgb;
  }
  return [255, 255, 255];
}
const problems = [];
for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const labelled = (control.id && document.querySelector(`label[for="${control.id}"]`)) || control.closest('label')
    || control.getAttribute('aria-label') || control.getAttribute('aria-labelledby');
  if (!labelled) problems.push(`no label: ${control.outerHTML.slice(0, 120)}`);
}
for (const element of document.querySelectorAll('body *')) {
  const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const style = getComputedStyle(element);
  if (!own || style.visibility === 'hidden' || style.display === 'none' || element.closest('.skip')) continue;
  const fg = colour(style.color), bg = background(element);
  if (!fg) continue;
  const [a, b] = [luminance(fg.rgb), luminance(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: ${element.tagName} "${element.textContent.trim().slice(0, 40)}"`);
}
return problems;
"""


@cache
def axe_source() -> str | None:
    """Return axe-core's script, installed with npm into a cache folder, or None where npm cannot install it."""
    npm = shutil.which("npm")
    folder = Path.home() / ".cache" / "ugc-guard-axe"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists() and npm is not None:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(folder), f"axe-core@{AXE_VERSION}", "--no-audit", "--no-fund", "--silent"],
                       check=False, capture_output=True, timeout=300)  # fmt: skip
    return script.read_text() if script.exists() else None


def accessibility_problems(driver: Any) -> list[str]:
    """Return what is wrong with the page in ``driver``: axe-core's violations of :data:`AXE_RULES` (when
    installed) and our own label and contrast check."""
    problems: list[str] = list(driver.execute_script(OWN_CHECK))
    source = axe_source()
    if source is not None:
        driver.execute_script(source)  # run by the driver, so the page's CSP does not apply
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'rule', values: arguments[0]}}).then(r => done(r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || '')).join(' | '))))",
            AXE_RULES,
        )
        problems += result
    return problems
