"""The console prints user text as written: rich markup and emoji codes in it are text."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from dnnexp.console import make_console, styled

TRAPS = ["runs[/x]/a", "[red]lost[/red] text", "a:thumbs_up:b", "[bold"]


@pytest.mark.parametrize("text", TRAPS)
def test_a_plain_string_prints_as_written(text, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    make_console().print(f"wrote {text}")
    assert out.getvalue() == f"wrote {text}\n"


@pytest.mark.parametrize("text", TRAPS)
def test_styled_text_prints_as_written_even_on_a_console_that_reads_markup(text):
    console = Console(file=io.StringIO(), color_system=None, width=200)  # markup on, as rich's default
    console.print(styled(("error:", "bold red"), f" {text}"))
    assert console.file.getvalue() == f"error: {text}\n"
