"""The writer replaces a file by renaming a complete copy over it: observed, not assumed.

Faults injected into the write cannot tell a rename from a copy into the old
file; these tests look at the file itself: a replaced file is a new inode, a
reader holding the old one keeps the old bytes, and a reader that opens the
name while it is being rewritten sees the old bytes or the new ones, never a mix
or a short file.
"""

from __future__ import annotations

import os
import threading

from unet_explain.render.output import atomic_write

OLD = b"old " * 250_000  # 1 MB
NEW = b"new!" * 500_000  # 2 MB


def test_a_replaced_file_is_a_new_inode_and_the_old_one_is_untouched(tmp_path):
    path = tmp_path / "unet.dot"
    path.write_bytes(OLD)
    before = os.stat(path)
    with open(path, "rb") as held:  # a reader that opened the file before the write
        atomic_write(path, NEW)
        after = os.stat(path)
        assert after.st_ino != before.st_ino
        assert held.read() == OLD  # the old inode was never written into
    assert path.read_bytes() == NEW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unet.dot"]  # no temporary file left


def test_a_concurrent_reader_never_sees_a_partial_file(tmp_path):
    path = tmp_path / "unet.dot"
    path.write_bytes(OLD)
    seen: list[int] = []
    wrong: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = path.read_bytes()
            seen.append(len(data))
            if data not in (OLD, NEW):
                wrong.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(40):
            atomic_write(path, NEW if i % 2 == 0 else OLD)
    finally:
        done.set()
        reader.join()
    assert seen, "the reader never ran"
    assert wrong == [], f"{len(wrong)} of {len(seen)} reads saw a partial file (sizes {sorted(set(wrong))[:5]})"
