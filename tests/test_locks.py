"""The file locks: one holder at a time across threads and processes, with lock files kept open."""

import os
import subprocess
import sys
import threading
import time

import filelock
import pytest

from hubserver.storage.files import locks
from hubserver.storage.files.locks import FileLocks, LockTimeout

HOLD_IN_ANOTHER_PROCESS = """
import sys
import filelock
with filelock.FileLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()  # until told to let go
"""


def test_a_lock_held_by_filelock_in_another_process_times_out_then_is_taken(tmp_path):
    path = str(tmp_path / "madams.json.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_ANOTHER_PROCESS, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(LockTimeout), FileLocks(0.2).hold(path):
            pass
        assert time.monotonic() - started >= 0.2  # it waited its whole timeout
        taken = threading.Event()

        def take():
            with FileLocks(60).hold(path):
                taken.set()

        waiter = threading.Thread(target=take)
        waiter.start()
        assert not taken.wait(0.3)  # not while the other process holds it
        holder.stdin.write("let go\n")
        holder.stdin.flush()
        assert taken.wait(60)  # taken once it lets go
        waiter.join()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stdin.close()


def test_while_held_here_filelock_elsewhere_cannot_take_it(tmp_path):
    path = str(tmp_path / "madams.json.lock")
    held = FileLocks(1)
    with held.hold(path), pytest.raises(filelock.Timeout):
        filelock.FileLock(path).acquire(timeout=0.1)
    with held.hold(path), pytest.raises(filelock.Timeout):  # the kept file is locked again
        filelock.FileLock(path).acquire(timeout=0.1)
    with filelock.FileLock(path, timeout=0.1):  # and let go after each hold
        pass


def test_threads_of_one_process_hold_a_lock_one_at_a_time(tmp_path):
    path = str(tmp_path / "tokens.lock")
    held = FileLocks(5)
    inside, most = [0], [0]
    guard = threading.Lock()

    def work():
        for _ in range(50):
            with held.hold(path):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_a_lock_file_removed_while_kept_is_made_again_and_excludes_others(tmp_path):
    path = str(tmp_path / "madams.json.lock")
    held = FileLocks(1)
    with held.hold(path):
        pass
    os.unlink(path)  # someone cleared the data directory meanwhile
    with held.hold(path):
        assert os.path.exists(path)
        with pytest.raises(filelock.Timeout):  # the lock is on the file the path names now
            filelock.FileLock(path).acquire(timeout=0.1)


def test_no_more_lock_files_are_kept_open_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "KEPT_OPEN", 3)
    held = FileLocks(1)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for number in range(10):
        with held.hold(str(tmp_path / ("ns%d.json.lock" % number))):
            pass
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) - before == 3
    with held.hold(str(tmp_path / "ns0.json.lock")), pytest.raises(filelock.Timeout):  # one closed is opened again
        filelock.FileLock(str(tmp_path / "ns0.json.lock")).acquire(timeout=0.1)
