"""Output paths given on the command line, checked before any work is done.

A folder where a file is expected (or the reverse), a file that exists already, a file type
the writer cannot produce, or a place that cannot be written: each is one line naming the
option, the path and what to do, raised before the command computes anything.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from design.errors import OutputPathError

__all__ = ["output_dir", "output_file"]


def _writable(parent: Path, option: str, path: Path) -> None:
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OutputPathError(f"{option} {path}: {ancestor} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".gbs-write-check-"):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"{option} {path}: cannot write in {parent} ({exc.strerror or exc})"
        ) from None


def output_file(
    path: Path,
    option: str,
    *,
    suffixes: tuple[str, ...] | None = None,
    overwrite: bool = False,
) -> Path:
    """Check that ``path`` can be written as a new file; return it.

    Args:
        path: the file to write (its folder is created when missing).
        option: the option's name for the message (``--csv``).
        suffixes: accepted file endings, lower case with the dot (``(".csv",)``); ``None``: any.
        overwrite: allow replacing an existing file (``--force``).

    Raises:
        OutputPathError: a folder, a wrong ending, an existing file without ``overwrite``, or a
            place that cannot be written.
    """
    if path.is_dir():
        example = path / f"out{suffixes[0] if suffixes else ''}"
        raise OutputPathError(f"{option} {path}: is a folder; give a file name, e.g. {example}")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{option} {path}: expected a file ending in {' or '.join(suffixes)}")
    if path.exists() and not overwrite:
        raise OutputPathError(
            f"{option} {path}: exists already; choose another name, or add --force to replace it"
        )
    _writable(path.parent, option, path)
    return path


def output_dir(path: Path, option: str) -> Path:
    """Check that ``path`` is (or can be created as) a writable folder; return it.

    Raises:
        OutputPathError: ``path`` is a file, or the folder cannot be created or written.
    """
    if path.exists() and not path.is_dir():
        raise OutputPathError(
            f"{option} {path}: is a file, not a folder; give a folder (created when missing)"
        )
    _writable(path, option, path)
    return path
