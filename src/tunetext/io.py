"""Atomic writes that destroy nothing tunetext did not write.

A crash or kill never leaves a half-written model, report or prediction file; an output folder is
replaced only when it is empty or tunetext's own earlier output, never when it holds the user's files,
the input data or the current folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from tunetext.errors import OutputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; the result should look like any file the user writes
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def check_output_dir(
    target: str | os.PathLike,
    *,
    markers: Sequence[str] = (),
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = False,
) -> Path:
    """Refuse, before any work is done, a folder `target` that writing an output there would destroy.

    `target` may be absent, empty, or hold one of `markers` (a file only tunetext writes there, such as
    tunetext.json), which marks it as tunetext's earlier output; `overwrite=True` also lets a folder of
    other files be replaced. Never, whatever `overwrite` says: a file, a symbolic link, the current or home
    folder or one above them, or a folder that is or holds one of `inputs`.
    """
    target = Path(target)
    if target.is_symlink():
        raise OutputError(f"{target} is a symbolic link to {target.resolve()}; tunetext would replace the link. "
                          "Pass the folder it points to, or a new folder.")
    resolved = target.resolve()
    for protected in (Path.cwd().resolve(), Path.home().resolve()):
        if resolved == protected or resolved in protected.parents:
            raise OutputError(f"{target} is {resolved}, the current or home folder or one above it; tunetext "
                              "writes its output to a folder of its own. Pass a new one, e.g. ./model.")
    for source in map(Path, inputs):  # checked even before they exist: a checkpoint folder is written during training
        if source.resolve() == resolved or resolved in source.resolve().parents:
            relation = "is" if source.resolve() == resolved else "holds"
            raise OutputError(f"{target} {relation} the input {source}; writing the output there would destroy it. "
                              "Pass another output path.")
    if not target.exists():
        return target
    if not target.is_dir():
        raise OutputError(f"{target} is a file; tunetext writes a folder there and never replaces a file with one. "
                          "Pass a new folder path.")
    if overwrite or any((target / name).is_file() for name in markers):
        return target
    names = sorted(entry.name for entry in target.iterdir())
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        expected = f" (it has no {' or '.join(markers)})" if markers else ""
        raise OutputError(f"{target} holds files tunetext did not write: {shown}{expected}. Refusing to write there: "
                          "pass a new or empty folder, or overwrite=True if what it holds may be lost.")
    return target


def check_output_file(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (), overwrite: bool = False
) -> Path:
    """Refuse, before any work is done, an output file `path` that is one of `inputs`, a folder, or (unless
    `overwrite=True`) an existing file."""
    path = Path(path)
    for source in map(Path, inputs):
        if path.exists() and source.exists() and os.path.samefile(path, source):
            raise OutputError(f"{path} is the input {source}; writing the output there would destroy it. "
                              "Pass another output file.")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; pass an output file path inside it, e.g. {path / 'predictions.csv'}.")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; pass another output file, or overwrite=True to replace it.")
    return path


@contextmanager
def atomic_dir(target: str | os.PathLike, *, markers: Sequence[str] = (), overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `target`; it replaces `target` whole on success.

    `target` must pass `check_output_dir` with `markers` and `overwrite`, both before the block (so
    nothing is computed for a folder that will be refused) and again at the swap. Every file gets the
    mode the user's umask gives new files: some writers (safetensors, mkstemp) make them private.
    """
    target = check_output_dir(target, markers=markers, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        _apply_umask(tmp)
        check_output_dir(target, markers=markers, overwrite=overwrite)  # the block may have run for hours
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`. An existing `target` is moved aside first and deleted only once `new` is in
    place, so at every instant either the old or the new folder is complete; if the swap fails the old
    one is put back, and nothing is left beside it unless even that failed."""
    if not target.exists():
        os.replace(new, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old = aside / "previous"
    try:
        os.replace(target, old)
        try:
            os.replace(new, target)
        except OSError:
            os.replace(old, target)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        with suppress(OSError):
            aside.rmdir()  # still there only when empty, or when it holds the old folder that could not go back


def _apply_umask(root: Path) -> None:
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o777 & ~_UMASK)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o666 & ~_UMASK)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    """Let numpy scalars and arrays through json.dumps without callers converting them."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
