"""The error raised when a landing file cannot be staged."""

from __future__ import annotations


class LandingFileError(ValueError):
    """A landing CSV file that cannot be staged as it is: bad encoding, layout or rows.

    ``str()`` names the file, the line (header = line 1) when one is known, and the
    problem, e.g. ``CARD_SUBWAY_MONTH_201907.csv: line 18335: expected 6 fields, found 3
    (truncated upload?)``, so that the message alone in the ELT log tells an operator what
    to fix. Values quoted in ``problem`` come from the file, never from configuration, so
    the message holds no secret.
    """

    def __init__(
        self,
        file_name: str,
        problem: str,
        *,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file_name = file_name
        self.problem = problem
        self.row = row
        """Line number in the file (header = line 1), or None when not tied to a line."""
        self.field = field
        """Source column concerned, or None."""
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"line {self.row}: " if self.row is not None else ""
        return f"{self.file_name}: {where}{self.problem}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keep keyword attributes when the error crosses a process boundary (Dagster
        # serializes step failures).
        return (_rebuild, (self.file_name, self.problem, self.row, self.field))


def _rebuild(file_name: str, problem: str, row: int | None, field: str | None) -> LandingFileError:
    return LandingFileError(file_name, problem, row=row, field=field)
