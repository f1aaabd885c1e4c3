"""The one exception type for errors a user can cause, and its specialisations."""

from __future__ import annotations


class DnnexpError(Exception):
    """A problem the user can fix: the message says what, where and how.

    The CLI prints the message (no traceback) and exits with `exit_code`.
    """

    exit_code = 2


class SpecError(DnnexpError):
    """A spec that cannot be used: several problems may be listed, one per line."""

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = head + self.problems[0]
        else:
            message = head + f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class DataNotFoundError(DnnexpError):
    """A data set whose files are nowhere to be found and could not be downloaded."""


class RunDirError(DnnexpError):
    """A folder that is not a run, or a run whose files are damaged."""
