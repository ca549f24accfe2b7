"""Headless Chromium for the page tests: Debian's chromium (no browser download), started the way
this workplace needs (no background networking, no GPU, a throw-away profile)."""
from __future__ import annotations

import os

#: ``SIM_CHROMIUM`` names another Chromium binary.
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch(playwright):
    """A headless Chromium browser from a running ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
