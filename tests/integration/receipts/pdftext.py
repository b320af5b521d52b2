"""Reading PDFs with poppler-utils (``pdftotext``, ``pdfinfo``); skips without them, except under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        reason = f"{name} (poppler-utils) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: under CI=true nothing may skip")
        pytest.skip(reason)
    return found


def pdf_text(pdf: bytes) -> str:
    """The text of ``pdf`` as ``pdftotext`` extracts it."""
    done = subprocess.run(
        [_tool("pdftotext"), "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The width and height (mm) of each page, from ``pdfinfo``."""
    done = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "999", "-"], input=pdf, capture_output=True, check=True)
    sizes = []
    for line in done.stdout.decode().splitlines():
        if line.startswith("Page") and "size:" in line:
            width, _, height = line.split("size:")[1].split()[:3]
            sizes.append((float(width) * 25.4 / 72, float(height) * 25.4 / 72))
    return sizes
