"""Hostile model files: `training.load` raises only ModelFileError or FileNotFoundError.

Each crafted file below is refused before the data it announces is read; the reserved keys
of ``np.savez`` (``file``, ``allow_pickle``) are ordinary parameter names.
"""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_sym.training import ModelFileError, load, save

META = {"cell": "lstm", "input_size": 2, "hidden_size": 3}


def _manifest(shapes: object, dtype: str = "float64") -> bytes:
    text = json.dumps(
        {"format": "lstm_sym.model", "version": 1, "dtype": dtype, "shapes": shapes, "meta": META}
    )
    return _npy(np.array(text))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _header(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _archive(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _valid_members() -> dict[str, bytes]:
    return {"__meta__.npy": _manifest({"W": [3, 5]}), "W.npy": _npy(np.ones((3, 5)))}


#: (id, what the file holds) — each must be refused with ModelFileError.
CRAFTED: list[tuple[str, Callable[[], dict[str, bytes]]]] = [
    ("member_not_npy", lambda: {**_valid_members(), "W.npy": b"not an array at all"}),
    ("meta_raw_bytes", lambda: {**_valid_members(), "__meta__.npy": b"\x00\x01{json}"}),
    ("meta_not_text", lambda: {**_valid_members(), "__meta__.npy": _npy(np.zeros(3))}),
    ("shapes_an_int", lambda: {**_valid_members(), "__meta__.npy": _manifest(7)}),
    ("a_shape_an_int", lambda: {**_valid_members(), "__meta__.npy": _manifest({"W": 7})}),
    (
        "header_1e7_by_1e7",
        lambda: {
            "__meta__.npy": _manifest({"W": [10**7, 10**7]}),
            "W.npy": _header((10**7, 10**7)) + bytes(120),
        },
    ),
    (
        "header_1e4_by_1e4_data_small",
        lambda: {
            "__meta__.npy": _manifest({"W": [10**4, 10**4]}),
            "W.npy": _header((10**4, 10**4)) + bytes(120),
        },
    ),
    ("shape_of_strings", lambda: {**_valid_members(), "__meta__.npy": _manifest({"W": ["3"]})}),
    (
        "declared_1e7_by_1e7",
        lambda: {**_valid_members(), "__meta__.npy": _manifest({"W": [10**7, 10**7]})},
    ),
    ("header_disagrees", lambda: {**_valid_members(), "W.npy": _npy(np.ones((5, 3)))}),
    ("extra_member", lambda: {**_valid_members(), "V.npy": _npy(np.ones(2))}),
    ("member_too_long", lambda: {**_valid_members(), "W.npy": _npy(np.ones((3, 5))) + b"xx"}),
    ("member_too_short", lambda: {**_valid_members(), "W.npy": _npy(np.ones((3, 5)))[:-8]}),
    (
        "object_array",
        lambda: {
            "__meta__.npy": _manifest({"W": [1]}),
            "W.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, "
            b"'shape': (1,), }" + b" " * 55 + b"\n",
        },
    ),
    ("no_manifest", lambda: {"W.npy": _npy(np.ones((3, 5)))}),
]


@pytest.mark.parametrize("make", [c[1] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_a_crafted_model_file_is_a_model_file_error(tmp_path, make):
    """Every crafted archive is refused with ModelFileError, never another exception."""
    path = _archive(tmp_path / "model.npz", make())
    with pytest.raises(ModelFileError):
        load(path)


def test_the_valid_crafted_archive_loads(tmp_path):
    """The archive the crafted cases start from is itself a readable model file."""
    params, meta = load(_archive(tmp_path / "model.npz", _valid_members()))
    assert np.array_equal(params["W"], np.ones((3, 5))) and meta == META


def test_a_member_that_inflates_is_refused_before_its_data_is_read(tmp_path):
    """A 40 MB deflated member whose header disagrees with the manifest costs no memory."""
    path = tmp_path / "bomb.npz"
    count = 5_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__meta__.npy", _manifest({"W": [4]}))
        with archive.open("W.npy", "w") as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": (count,)}
            )
            for _ in range(40):
                member.write(bytes(count * 8 // 40))
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"params\['W'\]"):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


def test_an_unsupported_compression_is_a_model_file_error(tmp_path):
    """A member compressed with a method zipfile cannot read is refused cleanly."""
    path = _archive(tmp_path / "model.npz", _valid_members())
    data = bytearray(path.read_bytes())
    # Method field of every local and central header: 0 (stored) -> 99 (AES, unsupported).
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] = 99
            start += 4
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_not_a_model_file(tmp_path):
    """A named pipe at the path is refused at once (FileNotFoundError), never opened."""
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(FileNotFoundError, match="no model file"):
        load(fifo)


@pytest.mark.parametrize("key", ["file", "allow_pickle", "args", "kwds"])
def test_keys_np_savez_takes_as_keywords_round_trip(tmp_path, key):
    """A parameter named like one of np.savez's own arguments is saved and loaded back."""
    params = {key: np.arange(6.0).reshape(2, 3), "W": np.ones((3, 2))}
    loaded, _ = load(save(tmp_path / "model.npz", params, META))
    assert set(loaded) == {key, "W"}
    assert np.array_equal(loaded[key], params[key])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_model_file_is_refused_or_loads(tmp_path, data):
    """Any bytes overwritten in a valid file give ModelFileError or the same arrays back."""
    params = {"l0.W": np.arange(12.0).reshape(3, 4), "b": np.ones(3)}
    path = save(tmp_path / "model.npz", params, META)
    content = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(content)))
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(bytes(content[:cut]))
    try:
        loaded, meta = load(damaged)
    except ModelFileError:
        return
    assert set(loaded) == set(params) and meta == META
    assert all(loaded[k].shape == params[k].shape for k in params)
