"""What dnnexp prints on the terminal: a rich console that prints every string as written, and
styled text that is built, never parsed.

Rich reads `[red]` in a string as a style and `[/x]` as a closing tag (a MarkupError when nothing
is open), so a path, run name or message holding brackets would lose text or crash the command
that prints it. Here markup (and `:emoji:` codes) is off, and colour comes from `styled`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


def make_console(stderr: bool = False) -> Console:
    """A console for standard output (or error) that never reads markup in what it prints."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False, emoji=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and (string, style) pairs, e.g. `styled(("error:", "bold red"), " ",
    message)`: the strings are shown as written on any console, markup or not."""
    from rich.text import Text

    return Text.assemble(*parts)
