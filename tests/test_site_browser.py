"""Every page of the built site renders in headless Chromium: math typeset, no errors, offline.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright's sync API with
``executable_path``; Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
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

#: Counts of everything that means the math did not render properly: "blank" counts math
#: elements with a glyph that draws nothing.
MATH_PROBLEMS = """() => {
    const nodes = [...document.querySelectorAll(".arithmatex")];
    // A CHTML glyph is an mjx-c whose ::before rule draws the character; without its rule
    // (MathJax's stylesheet lost) the glyph takes no ink and the formula shows blank.
    const inked = (c) => c.textContent !== "" ||
        !["none", "normal", ""].includes(getComputedStyle(c, "::before").content);
    const drawn = (n) => {
        const glyphs = [...n.querySelectorAll("mjx-container mjx-c")];
        return glyphs.length > 0 && glyphs.every(inked);
    };
    const anchors = [...document.querySelectorAll("mjx-container a[href]")];
    return {
        arithmatex: nodes.length,
        merror: document.querySelectorAll("mjx-merror").length,
        unrendered: nodes.filter(n => n.querySelectorAll("mjx-container").length === 0).length,
        doubled: nodes.filter(n => n.querySelectorAll("mjx-container").length > 1).length,
        blank: nodes.filter(n => !drawn(n)).length,
        brokenRefs: anchors
            .map(a => decodeURIComponent(a.getAttribute("href")))
            .filter(h => !h.startsWith("#") || !document.getElementById(h.slice(1))),
    };
}"""


@dataclasses.dataclass
class PageLog:
    """What one page did while loading: console errors and MathJax's console messages, failed
    and off-host requests."""

    errors: list[str] = dataclasses.field(default_factory=list)
    foreign: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    pending: set[Request] = dataclasses.field(default_factory=set)


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
        if message.type == "error" or "MathJax" in message.text:
            log.errors.append(f"console: {message.text}")

    def on_request(request: Request) -> None:
        log.pending.add(request)
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

    def on_finished(request: Request) -> None:
        log.pending.discard(request)

    def on_failed(request: Request) -> None:
        log.pending.discard(request)
        log.failed.append(f"failed ({request.failure}) {request.url}")

    page.on("requestfinished", on_finished)
    page.on("requestfailed", on_failed)
    return log


def _settle(page: Page, log: PageLog) -> None:
    """Wait until the page's fonts have loaded and every request it started has ended (so that
    a late failure is logged), failing after 30 s."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    deadline = time.monotonic() + 30
    while log.pending:
        assert time.monotonic() < deadline, f"requests still open after 30 s: {log.pending}"
        page.wait_for_timeout(20)


def _check_page(browser: Browser, url: str) -> tuple[PageLog, dict[str, object]]:
    context = browser.new_context()
    try:
        page = context.new_page()
        log = _watch(page, url)
        page.goto(url, wait_until="load")
        page.evaluate(WAIT_FOR_MATH)
        problems: dict[str, object] = page.evaluate(MATH_PROBLEMS)
        _settle(page, log)
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
        for key in ("merror", "unrendered", "doubled", "blank"):
            if problems[key]:
                issues.append(f"{problems[key]} math element(s) {key}")
        if problems["brokenRefs"]:
            issues.append(f"broken equation references {problems['brokenRefs']}")
        report += [f"{relative}: {issue}" for issue in issues]
    print(f"browser opened {len(pages)} pages, {math_count} math elements")
    assert math_count > 50, "suspiciously little math on the site"
    assert not report, "\n".join(report)


#: Pages of the Learn track, in the order of its *Next* links (built paths, directory URLs).
LEARN_TRACK = (
    "why-lstm/",
    "cell/",
    "gates/forget/",
    "gates/input/",
    "gates/output/",
    "derivations/lstm/",
    "explore/",
    "exercises/",
    "experiments/long-context/",
)

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


class Walk:
    """One browser tab that moves through the site the way a reader does (instant navigation,
    never a full reload) and records, for every page reached, what is wrong with its math."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base = base_url
        self.log = _watch(page, base_url)
        self.report: list[str] = []
        self.math = 0

    def open(self, path: str) -> None:
        """Load ``path`` in full (the only full load of the walk) and mark the window."""
        self.page.goto(self.base + path, wait_until="load")
        self.page.evaluate(WAIT_FOR_MATH)
        self.page.evaluate("() => { window.__lstmSymNoReload = true; }")

    def follow(self, how: str, act: Callable[[], None]) -> str:
        """Do ``act`` (a click, the back button), wait until the new page is typeset and check
        it; return the path reached."""
        before = self.page.url
        self.page.evaluate("() => { window.__lstmSymPromise = MathJax.startup.promise; }")
        act()
        # document$ chains a new typesetting onto the promise once the new page is in place.
        self.page.wait_for_function("() => MathJax.startup.promise !== window.__lstmSymPromise")
        self.page.evaluate(WAIT_FOR_MATH)
        path = urlsplit(self.page.url).path
        where = f"{how} {urlsplit(before).path} -> {path}"
        if not self.page.evaluate("() => window.__lstmSymNoReload === true"):
            self.report.append(f"{where}: the page fully reloaded (no instant navigation)")
        problems = self.page.evaluate(MATH_PROBLEMS)
        self.math += int(problems["arithmatex"])
        for key in ("merror", "unrendered", "doubled", "blank"):
            if problems[key]:
                self.report.append(
                    f"{where}: {problems[key]} of {problems['arithmatex']} math elements {key}"
                )
        self.report += [f"{where}: {e}" for e in self.log.errors]
        self.log.errors.clear()
        return path

    def next(self) -> str:
        """Follow the footer's *Next* link; the address reached carries no fragment."""
        link = self.page.locator("a.md-footer__link--next")
        path = self.follow("next", lambda: link.click())
        if urlsplit(self.page.url).fragment:
            self.report.append(f"next -> {self.page.url}: a fragment on a page's address")
        return path

    def _reopen_once(self, toggle: str, open_it: Callable[[], None], shown: Locator) -> None:
        """Run ``open_it`` and wait for ``shown``; open again once if Material closed it.

        Material closes the drawer and the search 125 ms after every navigation
        (``#__drawer``, ``#__search``). A click that lands in that window opens the panel only
        for it to close again; a reader then opens it again, and so does this walk, once.
        """
        open_it()
        try:
            shown.wait_for(state="visible", timeout=3000)
        except PlaywrightTimeoutError:
            if self.page.evaluate(f"() => document.getElementById('{toggle}').checked"):
                raise  # open, yet not shown: not the closing race
            open_it()
            shown.wait_for(state="visible")

    def sidebar(self, target: str) -> str:
        """Follow the primary navigation's link to ``target`` (on a phone: through the drawer
        and the Learn section)."""
        link = self.page.locator(f"nav.md-nav--primary a.md-nav__link[href$='{target}']").first
        drawer = self.page.locator("label.md-header__button[for='__drawer']")

        def open_drawer() -> None:
            drawer.click()
            if not self.page.locator("#__nav_2").is_checked():
                self.page.locator("nav.md-nav--primary label[for='__nav_2']").first.click()

        def act() -> None:
            if drawer.is_visible():  # a phone: the navigation is a drawer of sliding panels
                self._reopen_once("__drawer", open_drawer, link)
            link.click()

        return self.follow("sidebar", act)

    def search(self, query: str) -> str:
        """Type ``query`` into the search box and follow the first result."""
        box = self.page.locator("input.md-search__input")
        result = self.page.locator("li.md-search-result__item > a").first

        def open_search() -> None:
            opener = self.page.locator("label.md-header__button[for='__search']").first
            if opener.is_visible():  # on a phone the search box hides behind an icon
                opener.click()
            box.blur()  # Material opens the search on the box's focus event
            box.click()
            if not box.input_value():
                self.page.keyboard.type(query)

        def act() -> None:
            self._reopen_once("__search", open_search, result)
            result.click()

        return self.follow("search", act)

    def back(self) -> str:
        """Press the browser's back button."""
        return self.follow("back", lambda: self.page.go_back())


def walk_the_learn_track(browser: Browser, base_url: str, width: str) -> None:
    """From Home, *Next* through the whole Learn track, the sidebar to BPTT, the back button
    and a search result, at ``width`` (a key of :data:`WIDTHS`); fail naming every page whose
    math is not all drawn (every glyph inked) once, with no TeX error and no MathJax console
    message, or that was reached by a full reload."""
    context = browser.new_context(viewport=WIDTHS[width])
    try:
        walk = Walk(context.new_page(), base_url)
        walk.open("")
        reached = [urlsplit(walk.base).path + p for p in LEARN_TRACK]
        visited = [walk.next() for _ in LEARN_TRACK]
        assert visited == reached
        assert walk.sidebar("derivations/lstm/").endswith("/derivations/lstm/")
        assert walk.back().endswith(LEARN_TRACK[-1])
        assert walk.search("peephole").startswith(urlsplit(walk.base).path)
        assert walk.math > 500, f"suspiciously little math on the walk: {walk.math}"
        assert not walk.report, "\n".join(walk.report)
    finally:
        context.close()


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_math_typesets_on_every_page_reached_by_navigation(
    browser: Browser, site_url: str, width: str
) -> None:
    """On the built site served statically at its `site_url`, every page the Learn-track walk
    reaches without a reload shows all its math drawn."""
    walk_the_learn_track(browser, site_url, width)


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
