"""Save and load a model's parameters with its metadata: one ``.npz`` file, no pickle.

The file holds every parameter array under its own key and one more entry, ``__meta__``: a
JSON text (stored as a NumPy unicode scalar, so loading never unpickles anything) with the
format name and version, the dtype, every parameter's shape, and the caller's metadata —
which must name the cell and its sizes (``cell``, ``input_size``, ``hidden_size``; a
`lstm_sym.layers.Stack`'s `lstm_sym.layers.Stack.meta` has them).

`save` writes a temporary file next to the target and renames it over the target, so a
crash never leaves half a file. `load` checks everything it reads against that
manifest and raises `ModelFileError` naming what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "VERSION", "ModelFileError", "load", "save"]

#: Format name written into every file.
FORMAT = "lstm_sym.model"
#: Version of the layout; `load` refuses others.
VERSION = 1
#: Metadata every file must carry, with the type of each value.
REQUIRED_META: dict[str, type] = {"cell": str, "input_size": int, "hidden_size": int}

#: Largest manifest (``__meta__``) `load` reads.
MAX_MANIFEST_BYTES = 16 * 1024**2
#: Most bytes of arrays a manifest may declare: `load` reads no more than it declares.
MAX_ARRAY_BYTES = 16 * 1024**3

_CHUNK_BYTES = 1 << 22
_META_KEY = "__meta__"
_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class ModelFileError(ValueError):
    """A model file is unreadable, corrupted, or not what the caller expected."""


def _check_meta(meta: Any, where: str) -> dict[str, Any]:
    if not isinstance(meta, Mapping):
        raise TypeError(f"{where} must be a dict; got {type(meta).__name__}")
    for key, kind in REQUIRED_META.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{where} must have {key!r} ({kind.__name__}); got {value!r}")
        if isinstance(value, int) and value < 1:
            raise ValueError(f"{where}[{key!r}] must be a positive integer; got {value!r}")
    return dict(meta)


def save(
    path: str | os.PathLike[str], params: Mapping[str, np.ndarray], meta: Mapping[str, Any]
) -> Path:
    """Write ``params`` and ``meta`` to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or path-like
        Target file (written as given; ``.npz`` is a good suffix). Its folder must exist.
    params : mapping of str to numpy.ndarray
        The arrays, all float32 or all float64; keys are dotted identifiers such as
        ``"l0.W_f"`` or ``"W_y"`` (no ``/``, not starting with ``__``).
    meta : mapping
        JSON-serialisable; must contain ``"cell"`` (str), ``"input_size"`` and
        ``"hidden_size"`` (positive ints). Anything else (``num_layers``, a vocabulary, …)
        is kept as given.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        On a bad key, an empty ``params``, missing metadata or metadata that is not JSON.
    TypeError
        On a non-array value or dtypes that are not all float32 or all float64.
    """
    target = Path(path)
    if not isinstance(params, Mapping) or not params:
        raise ValueError("params must be a non-empty dict of arrays")
    user_meta = _check_meta(meta, "meta")
    arrays: dict[str, np.ndarray] = {}
    dtype = None
    for key, value in params.items():
        if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key) or key.startswith("__"):
            raise ValueError(
                f"params key {key!r} must be a dotted identifier such as 'l0.W_f' "
                "(letters, digits, '_', '.'; not starting with '__')"
            )
        if not isinstance(value, np.ndarray) or value.dtype not in _FLOAT_DTYPES:
            raise TypeError(
                f"params[{key!r}] must be a float32 or float64 array; got {value!r:.60}"
            )
        if dtype is None:
            dtype = value.dtype
        elif value.dtype != dtype:
            raise TypeError(f"params[{key!r}] has dtype {value.dtype}; every array must be {dtype}")
        arrays[key] = np.ascontiguousarray(value)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "dtype": str(dtype),
        "shapes": {key: list(value.shape) for key, value in arrays.items()},
        "meta": user_meta,
    }
    try:
        text = json.dumps(manifest, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"meta must be JSON-serialisable (str, numbers, lists, dicts): {error}"
        ) from None
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            # The members are written one by one (what np.savez does), not through
            # np.savez(**arrays): that takes the keys as keywords, so "file" or
            # "allow_pickle" would collide with its own parameters.
            with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for key, value in [*arrays.items(), (_META_KEY, np.array(text))]:
                    with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, value, allow_pickle=False)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load(
    path: str | os.PathLike[str], *, expect: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by `save`, checking it against its own manifest.

    Parameters
    ----------
    path : str or path-like
    expect : mapping, optional
        Metadata the file must have, for example ``{"cell": "lstm", "hidden_size": 64}`` or a
        `Stack.meta()`; every key must be present with an
        equal value.

    Returns
    -------
    params : dict of str to numpy.ndarray
        The arrays, with their saved shapes and dtype.
    meta : dict
        The metadata passed to `save`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ModelFileError
        (a ``ValueError``) If the file is not a readable ``.npz``, is corrupted, lacks or has
        a malformed manifest, holds arrays that differ from it (missing, extra, another
        shape or dtype), or differs from ``expect``.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no model file at {str(source)!r}")
    try:
        contents, meta = _read(source)
    except ModelFileError:
        raise
    except Exception as error:  # whatever a damaged or crafted archive makes the readers raise
        raise ModelFileError(
            f"{source} is not a readable lstm_sym model file ({type(error).__name__}: {error})"
        ) from None
    for key, wanted in (expect or {}).items():
        if key not in meta or meta[key] != wanted:
            raise ModelFileError(
                f"{source}: meta[{key!r}] is {meta.get(key)!r}; expected {wanted!r}"
            )
    return contents, meta


def _read(source: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read the manifest, then every array it declares, each checked before its data is read."""
    with zipfile.ZipFile(source) as archive:
        members = {info.filename: info for info in archive.infolist()}
        if len(members) != len(archive.infolist()):
            raise ModelFileError(f"{source}: the archive names a member twice")
        meta_member = members.pop(f"{_META_KEY}.npy", None)
        if meta_member is None:
            raise ModelFileError(
                f"{source} has no {_META_KEY!r} entry: not written by lstm_sym.training.save"
            )
        if meta_member.file_size > MAX_MANIFEST_BYTES:
            raise ModelFileError(
                f"{source}: the {_META_KEY!r} entry is larger than {MAX_MANIFEST_BYTES} bytes"
            )
        try:
            manifest_array = _read_member(archive, meta_member, None, None)
            if manifest_array.dtype.kind != "U" or manifest_array.shape != ():
                raise ValueError("not a text scalar")
            manifest = json.loads(str(manifest_array[()]))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            raise ModelFileError(
                f"{source}: the {_META_KEY!r} entry is malformed ({error})"
            ) from None
        meta, dtype, shapes = _check_manifest(manifest, source)
        names = {f"{key}.npy": key for key in shapes}
        missing = sorted(key for name, key in names.items() if name not in members)
        extra = sorted(name.removesuffix(".npy") for name in members if name not in names)
        if missing or extra:
            raise ModelFileError(
                f"{source}: arrays missing {missing}, unexpected {extra} (against its manifest)"
            )
        contents = {
            key: _read_member(archive, members[name], dtype, shapes[key], source, key)
            for name, key in names.items()
        }
    return contents, meta


def _check_manifest(
    manifest: dict[str, Any], source: Path
) -> tuple[dict[str, Any], np.dtype[Any], dict[str, tuple[int, ...]]]:
    """Return the manifest's metadata, dtype and shapes, or raise ModelFileError."""
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ModelFileError(
            f"{source}: format {manifest.get('format')!r} version {manifest.get('version')!r}; "
            f"expected {FORMAT!r} version {VERSION}"
        )
    try:
        meta = _check_meta(manifest.get("meta"), f"{source}: meta")
    except (TypeError, ValueError) as error:
        raise ModelFileError(str(error)) from None
    shapes = manifest.get("shapes")
    dtype_name = manifest.get("dtype")
    if not isinstance(shapes, dict) or dtype_name not in ("float32", "float64"):
        raise ModelFileError(f"{source}: the manifest lacks the parameter shapes or dtype")
    dtype = np.dtype(dtype_name)
    checked: dict[str, tuple[int, ...]] = {}
    total = 0
    for key, shape in shapes.items():
        if not _KEY_PATTERN.fullmatch(key) or key.startswith("__"):
            raise ModelFileError(f"{source}: the manifest names an array {key[:60]!r}")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise ModelFileError(
                f"{source}: the manifest's shape of {key!r} is {str(shape)[:60]}; expected a "
                "list of sizes"
            )
        checked[key] = tuple(shape)
        total += math.prod(shape) * dtype.itemsize
        if total > MAX_ARRAY_BYTES:
            raise ModelFileError(
                f"{source}: the manifest declares more than {MAX_ARRAY_BYTES} bytes of arrays"
            )
    return meta, dtype, checked


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    dtype: np.dtype[Any] | None,
    shape: tuple[int, ...] | None,
    source: Path | None = None,
    key: str = _META_KEY,
) -> np.ndarray:
    """Read one ``.npy`` member; with ``dtype`` and ``shape``, refuse any other before its data."""
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"npy version {version} is not supported")
        if found_dtype.hasobject or fortran:
            raise ValueError("an object or Fortran-ordered array: not written by save")
        if dtype is not None and (found_dtype != dtype or tuple(found_shape) != shape):
            raise ModelFileError(
                f"{source}: params[{key!r}] is {found_dtype} {tuple(found_shape)}; the manifest "
                f"says {dtype} {shape}"
            )
        nbytes = math.prod(found_shape) * found_dtype.itemsize
        if info.file_size != stream.tell() + nbytes:
            raise ValueError(f"the member {info.filename!r} has the wrong size for its header")
        array = np.empty(found_shape, found_dtype)
        flat = array.reshape(-1).view(np.uint8)  # a view: the data lands in ``array``
        position = 0
        while position < nbytes:
            chunk = stream.read(min(_CHUNK_BYTES, nbytes - position))
            if not chunk:
                raise ValueError(f"the member {info.filename!r} ends early")
            flat[position : position + len(chunk)] = np.frombuffer(chunk, np.uint8)
            position += len(chunk)
        if stream.read(1):
            raise ValueError(f"the member {info.filename!r} is longer than its header says")
    return array
