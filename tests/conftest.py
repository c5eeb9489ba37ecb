"""Settings shared by every test module of the suite.

The suite runs in two worker processes (``pytest -n 2``, pytest-xdist) in
``scripts/test.sh``; it also runs unchanged in one process (plain ``pytest``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest
from hypothesis import settings

#: Hypothesis profiles. "ci" (the default, and what scripts/test.sh selects) derives every
#: example from the test itself, with no deadline and no example database: the suite draws
#: the same examples on every run and machine, so it cannot fail at random. "fuzz" draws new
#: examples on every run; it is the separate command that explores (README, "Checks you can
#: rerun"): python -m pytest -q -n 2 -m hypothesis --hypothesis-profile=fuzz
settings.register_profile("ci", derandomize=True, deadline=None, database=None)
settings.register_profile("fuzz", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("LSTM_SYM_HYPOTHESIS_PROFILE", "ci"))

#: Site builds of identical sources share passing verification reports through this folder
#: (see lstm_sym.site.verification.CACHE_ENV). It is set here, at start-up, so that every
#: worker process inherits the same folder.
if "LSTM_SYM_VERIFICATION_CACHE" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="lstm_sym_verification_cache_")
    os.environ["LSTM_SYM_VERIFICATION_CACHE"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

#: Helpers of site_support that read the one strict build of the repository's site.
_BUILT_SITE_HELPERS = {"built_site", "require_built_site", "site_port"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every test that reads the shared built site in one worker (one build, not two)."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and _BUILT_SITE_HELPERS & set(vars(module)):
            item.add_marker(pytest.mark.xdist_group("built-site"))
