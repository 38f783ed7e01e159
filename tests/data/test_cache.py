"""The precomputed-image cache: valid files load, bad ones are refused or rebuilt, failures leave nothing."""

from __future__ import annotations

import pytest
import torch

from lit_robust.data.cache import load_cached, save_cached


def test_a_saved_cache_loads_and_a_stale_one_is_rebuilt(tmp_path):
    path, images = tmp_path / "cache.pt", torch.arange(12, dtype=torch.uint8).view(3, 4)
    save_cached(path, "key", images)
    assert torch.equal(load_cached(path, "key", "Owner"), images)
    with pytest.warns(UserWarning, match="Owner: stale or corrupt cache"):
        assert load_cached(path, "other key", "Owner") is None
    path.write_bytes(path.read_bytes()[:50])  # truncated
    with pytest.warns(UserWarning, match="Owner: unreadable cache"):
        assert load_cached(path, "key", "Owner") is None
    assert list(tmp_path.iterdir()) == [path]


def test_a_directory_in_place_of_the_cache_is_refused_before_any_work(tmp_path):
    path = tmp_path / "cache.pt"
    path.mkdir()
    with pytest.raises(ValueError, match=r"Owner: the cache path .*cache.pt is not a file"):
        load_cached(path, "key", "Owner")


def test_a_failed_save_leaves_no_partial_file(tmp_path):
    path = tmp_path / "cache.pt"
    path.mkdir()  # the rename onto a directory fails after the whole file was written
    with pytest.raises(OSError):
        save_cached(path, "key", torch.zeros(1000, dtype=torch.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["cache.pt"] and path.is_dir()


def test_an_interrupted_save_leaves_no_partial_file(tmp_path):
    class Interrupting(torch.Tensor):
        def __reduce_ex__(self, protocol: int) -> tuple:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_cached(tmp_path / "cache.pt", "key", torch.zeros(4).as_subclass(Interrupting))
    assert list(tmp_path.iterdir()) == []
