"""User-facing errors.

Every problem a user can fix (bad params, a missing data file, a corrupt weights file) is raised
as a :class:`StudyError`. The CLI prints it as one line and exits non-zero; a traceback is only
shown for bugs. Messages name the file, line or key, and say what to do.
"""

from __future__ import annotations


class StudyError(Exception):
    """An error the user can act on; ``str()`` is the complete one-line message."""

    exit_code = 2


class ParamsError(StudyError):
    """A params file is malformed or names something that does not exist."""


class DataError(StudyError):
    """The data bundle (or a user data file) is missing, altered or malformed."""


class EncoderError(StudyError):
    """The encoder cannot be built or loaded (corrupt source, missing package, offline hub)."""
