"""A namespace's change log: one line of JSON a change, appended after the namespace's snapshot.

``<data-dir>/<namespace>.log`` lies beside ``<namespace>.json``. The state of a
namespace is its snapshot (the JSON file) with the log's records applied in
order. A record names the snapshot it follows (``after``: the first 16 hex
digits of the sha256 of the snapshot's bytes) and ends with a checksum::

    {"after":"3f7c9a0e12b4d5f6","put":{"repo_name":"repo",...}}           the repository as it is now
    {"after":"3f7c9a0e12b4d5f6","delete":"repo"}                           the repository is gone
    {"after":"3f7c9a0e12b4d5f6","tag":{"repo_name":"repo","tag":"latest",
     "image_id":"a400...","pushed_at":"2015-06-07T10:41:31.882Z"}}         a tag pushed (document.with_tag)
    {"after":"3f7c9a0e12b4d5f6","compacted":"9b2e..."}                     this log is in that snapshot

each written as ``<the object without its closing brace>,"sum":"<crc32, 8 hex>"}``
and a newline. The checksum is chained: the crc32 of the record's bytes
before it, continued from the checksum of the record before (0 for the
first), so the last record's checksum stands for every record of the log,
and a reader that finds it where it left it knows the log holds what it read
(docs/design.md, "Who sees which change"). Logs of earlier versions, whose
checksums each start from 0, are read too. A compaction appends the
``compacted`` record before it replaces the snapshot, so a log whose
snapshot was replaced by its own compaction is recognised, and dropped,
after a crash between the two.
"""

import hashlib
import json
import re
import zlib

from hubserver.clock import is_timestamp
from hubserver.names import is_repo_path, is_stored_image_id, is_tag
from hubserver.storage import document
from hubserver.storage.errors import CorruptNamespace

LOG_SUFFIX = ".log"
KINDS = ("put", "delete", "tag", "compacted")
TAG_PUSH_KEYS = ("repo_name", "tag", "image_id", "pushed_at")
SUM_LENGTH = len(',"sum":"00000000"}')
_SUM = re.compile(rb',"sum":"[0-9a-f]{8}"}')
MARK_LENGTH = SUM_LENGTH + 1  # a log's mark: the end of its last record, checksum and newline
# One encoder for every record: json.dumps with options builds one a call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def snapshot_id(data):
    """Return the identity a log's records name their snapshot by: its bytes' sha256, 16 hex digits."""
    return hashlib.sha256(data).hexdigest()[:16]


def put_record(after, repository):
    """Return the record of ``repository`` as it now is."""
    return {"after": after, "put": repository}


def delete_record(after, repo_name):
    """Return the record that the repository ``repo_name`` is gone."""
    return {"after": after, "delete": repo_name}


def tag_record(after, repo_name, tag, image_id, pushed_at):
    """Return the record of a push of ``tag`` of ``repo_name`` at ``pushed_at`` (``document.with_tag``)."""
    return {"after": after, "tag": {"repo_name": repo_name, "tag": tag, "image_id": image_id, "pushed_at": pushed_at}}


def compacted_record(after, new_snapshot):
    """Return the record that says this log is wholly in the snapshot ``new_snapshot``."""
    return {"after": after, "compacted": new_snapshot}


def encode(records, mark=b""):
    """Return the lines of ``records``, to be appended to a log whose mark is ``mark`` (b"": an empty log)."""
    previous = sum_of(mark)
    lines = []
    for fields in records:
        body = _ENCODER.encode(fields).encode("utf-8")[:-1]  # without its "}"
        previous = zlib.crc32(body, previous)
        lines.append(body + b',"sum":"%08x"}\n' % previous)
    return b"".join(lines)


def mark_of(data):
    """Return the mark of a log that ends with ``data`` (its whole records): its last MARK_LENGTH bytes."""
    return data[-MARK_LENGTH:]


def sum_of(mark):
    """Return the checksum a mark ends with, as a number (0 for the mark of an empty log)."""
    return int(mark[8:16], 16) if mark else 0  # ,"sum":"<8 hex>"}\n


class Tail:
    """What reading a log found: its records, the length of its whole records, and its mark then.

    Bytes may follow the last whole record: a record a crash cut short (never
    acknowledged), or one being written right now.
    """

    __slots__ = ("length", "mark", "records")

    def __init__(self, records, length, mark):
        self.records = records
        self.length = length
        self.mark = mark


def read_records(namespace, data, start=0, mark=b""):
    """Return the Tail of ``data``, log bytes from offset ``start`` that follow whole records marked ``mark``.

    CorruptNamespace for a damaged record: a record that fails its checksum,
    or breaks the format, is damage when a whole record follows it; as the
    last, it is a torn record, left out.
    """
    records, position = [], 0
    lines = data.split(b"\n")
    for index, line in enumerate(lines[:-1]):  # the last piece has no newline: not a whole record
        record = _record(namespace, line, sum_of(mark))
        if record is None:
            if _whole_record_follows(namespace, lines[index:-1]):
                raise CorruptNamespace(namespace, "its log has a damaged record at byte %d" % (start + position))
            return Tail(records, start + position, mark)
        records.append(record)
        position += len(line) + 1
        mark = mark_of(line + b"\n")
    return Tail(records, start + position, mark)


def _whole_record_follows(namespace, lines):
    """Tell whether a line after the first of ``lines`` is a record, whatever it was chained from.

    The checksum of a record after a damaged one cannot be checked: it was
    chained from the bytes the damage changed.
    """
    return any(_SUM.fullmatch(line[-SUM_LENGTH:]) and _parsed(namespace, line) for line in lines[1:])


def _sum_matches(line, previous):
    """Tell whether a line ends with the checksum of what comes before, chained from ``previous`` or not."""
    body, tail = line[:-SUM_LENGTH], line[-SUM_LENGTH:]
    return len(line) > SUM_LENGTH and (
        tail == b',"sum":"%08x"}' % zlib.crc32(body, previous) or tail == b',"sum":"%08x"}' % zlib.crc32(body)
    )


def _record(namespace, line, previous):
    """Return the record a whole line holds, chained from ``previous``, or None."""
    return _parsed(namespace, line) if _sum_matches(line, previous) else None


def _parsed(namespace, line):
    """Return the record ({"after", and one of KINDS}) a line of JSON holds, or None."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    kinds = [kind for kind in KINDS if kind in record]
    if sorted(record) != sorted(["after", "sum", *kinds]) or len(kinds) != 1 or not isinstance(record["after"], str):
        return None
    if "put" in record:
        try:
            record["put"] = document.check_repository(namespace, record["put"])
        except document.BrokenDocument:
            return None
    elif "tag" in record:
        return record if _is_tag_push(namespace, record["tag"]) else None
    elif not isinstance(record[kinds[0]], str):
        return None
    return record


def _is_tag_push(namespace, push):
    return (
        isinstance(push, dict)
        and sorted(push) == sorted(TAG_PUSH_KEYS)
        and is_repo_path(namespace, push["repo_name"])
        and is_tag(push["tag"])
        and is_stored_image_id(push["image_id"])
        and is_timestamp(push["pushed_at"])
    )


def apply(namespace, repositories, records):
    """Apply records to ``repositories`` (by name, in creation order), in place.

    CorruptNamespace for a tag pushed to a repository that is not there: a
    log that does not follow its snapshot.
    """
    for record in records:
        if "put" in record:
            repositories[record["put"]["repo_name"]] = record["put"]
        elif "delete" in record:
            repositories.pop(record["delete"], None)
        elif "tag" in record:
            push = record["tag"]
            repository = repositories.get(push["repo_name"])
            if repository is None:
                raise CorruptNamespace(namespace, "its log pushes a tag to a repository it does not hold")
            stamp = push["pushed_at"]
            repositories[push["repo_name"]], _ = document.with_tag(repository, push["tag"], push["image_id"], stamp)
