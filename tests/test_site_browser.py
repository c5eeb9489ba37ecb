"""Every page of the built site renders in headless Chromium: math typeset, no errors, offline.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright's sync API with
``executable_path``; Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright
from site_support import NAV_PAGES, require_built_site, serve, site_port

CHROMIUM = os.environ.get("LSTM_SYM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Resolves once MathJax has finished every typesetting queued so far (see mathjax-config.js).
WAIT_FOR_MATH = """async () => {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) {
        throw new Error("MathJax did not start");
    }
    let promise;
    do { promise = MathJax.startup.promise; await promise; }
    while (promise !== MathJax.startup.promise);
    return true;
}"""

#: Counts of everything that means the math did not render properly.
MATH_PROBLEMS = """() => {
    const nodes = [...document.querySelectorAll(".arithmatex")];
    const anchors = [...document.querySelectorAll("mjx-container a[href]")];
    return {
        arithmatex: nodes.length,
        merror: document.querySelectorAll("mjx-merror").length,
        unrendered: nodes.filter(n => n.querySelectorAll("mjx-container").length === 0).length,
        doubled: nodes.filter(n => n.querySelectorAll("mjx-container").length > 1).length,
        brokenRefs: anchors
            .map(a => decodeURIComponent(a.getAttribute("href")))
            .filter(h => !h.startsWith("#") || !document.getElementById(h.slice(1))),
    };
}"""


@dataclasses.dataclass
class PageLog:
    """What one page did while loading: console errors, failed and off-host requests."""

    errors: list[str] = dataclasses.field(default_factory=list)
    foreign: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)


def all_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as a path relative to its root."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """Base URL of the built site, served on 127.0.0.1 for the duration of the module."""
    with serve(require_built_site(), port=site_port()) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _watch(page: Page, base_url: str) -> PageLog:
    log = PageLog()
    host = urlsplit(base_url).netloc

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.errors.append(f"console: {message.text}")

    def on_request(request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != host:
            log.foreign.append(request.url)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            log.failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    page.on("request", on_request)
    page.on("response", on_response)
    return log


def _check_page(browser: Browser, url: str) -> tuple[PageLog, dict[str, object]]:
    context = browser.new_context()
    try:
        page = context.new_page()
        log = _watch(page, url)
        page.goto(url, wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        problems: dict[str, object] = page.evaluate(MATH_PROBLEMS)
        page.wait_for_load_state("networkidle")
        return log, problems
    finally:
        context.close()


def test_every_page_renders_cleanly(browser: Browser, site_url: str) -> None:
    """Each built page loads with no MathJax error, no unrendered or doubly typeset math, no
    broken equation reference, no console error, no failed request and no request off
    127.0.0.1."""
    site = require_built_site()
    pages = all_pages(site)
    assert set(NAV_PAGES) <= set(pages)
    report = []
    math_count = 0
    for relative in pages:
        log, problems = _check_page(browser, site_url + relative)
        math_count += int(str(problems["arithmatex"]))
        issues = [*log.errors, *log.failed, *(f"off-host request {u}" for u in log.foreign)]
        for key in ("merror", "unrendered", "doubled"):
            if problems[key]:
                issues.append(f"{problems[key]} math element(s) {key}")
        if problems["brokenRefs"]:
            issues.append(f"broken equation references {problems['brokenRefs']}")
        report += [f"{relative}: {issue}" for issue in issues]
    print(f"browser opened {len(pages)} pages, {math_count} math elements")
    assert math_count > 50, "suspiciously little math on the site"
    assert not report, "\n".join(report)


def test_instant_navigation_typesets_the_new_page_once(browser: Browser, site_url: str) -> None:
    """Following a link in the page (instant loading, no full reload) typesets the new page's
    math exactly once, with equation numbers restarting."""
    context = browser.new_context()
    try:
        page = context.new_page()
        log = _watch(page, site_url)
        page.goto(site_url + "cell/", wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        page.evaluate("() => { window.__lstmSymNoReload = true; }")
        page.locator("article a[href$='gates/input/']").first.click()
        # navigation.tracking may add the fragment of the heading in view.
        page.wait_for_url(re.compile(r".*/gates/input/(#[\w-]*)?$"))
        page.wait_for_function("() => document.querySelector('h1')?.textContent.includes('Input')")
        page.evaluate(WAIT_FOR_MATH)
        assert page.evaluate("() => window.__lstmSymNoReload === true"), "page fully reloaded"
        problems = page.evaluate(MATH_PROBLEMS)
        assert problems["arithmatex"] > 0
        assert problems["unrendered"] == 0
        assert problems["doubled"] == 0
        assert problems["merror"] == 0
        assert not log.errors and not log.foreign and not log.failed
    finally:
        context.close()


def test_undefined_macro_is_reported_as_an_error(browser: Browser, site_url: str) -> None:
    """With `noundefined` removed, an unknown TeX macro renders as an mjx-merror the checks see."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site_url + "notation/", wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        count = page.evaluate(
            """async () => {
                const div = document.createElement("div");
                div.className = "arithmatex";
                div.textContent = "\\\\[ \\\\notAMacro{x} \\\\]";
                document.querySelector("article").appendChild(div);
                await MathJax.typesetPromise([div]);
                return div.querySelectorAll("mjx-merror").length;
            }"""
        )
        assert count == 1
    finally:
        context.close()
