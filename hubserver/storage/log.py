"""A namespace's change log: one line of JSON a change, appended after the namespace's snapshot.

``<data-dir>/<namespace>.log`` lies beside ``<namespace>.json``. The state of a
namespace is its snapshot (the JSON file) with the log's records applied in
order. A record names the snapshot it follows (``after``: the first 16 hex
digits of the sha256 of the snapshot's bytes) and ends with a checksum of
everything before it, so a record is whole or recognisably not::

    {"after":"3f7c9a0e12b4d5f6","put":{"repo_name":"repo",...}}           the repository as it is now
    {"after":"3f7c9a0e12b4d5f6","delete":"repo"}                           the repository is gone
    {"after":"3f7c9a0e12b4d5f6","tag":{"repo_name":"repo","tag":"latest",
     "image_id":"a400...","pushed_at":"2015-06-07T10:41:31.882Z"}}         a tag pushed (document.with_tag)
    {"after":"3f7c9a0e12b4d5f6","compacted":"9b2e..."}                     this log is in that snapshot

each written as ``<the object without its closing brace>,"sum":"<crc32, 8 hex>"}``
and a newline. A compaction appends the ``compacted`` record before it
replaces the snapshot, so a log whose snapshot was replaced by its own
compaction is recognised, and dropped, after a crash between the two.
"""

import hashlib
import json
import zlib

from hubserver.clock import is_timestamp
from hubserver.names import is_image_id, is_repo_path, is_tag
from hubserver.storage import document
from hubserver.storage.errors import CorruptNamespace

LOG_SUFFIX = ".log"
KINDS = ("put", "delete", "tag", "compacted")
TAG_PUSH_KEYS = ("repo_name", "tag", "image_id", "pushed_at")
SUM_LENGTH = len(',"sum":"00000000"}')
# One encoder for every record: json.dumps with options builds one a call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def snapshot_id(data):
    """Return the identity a log's records name their snapshot by: its bytes' sha256, 16 hex digits."""
    return hashlib.sha256(data).hexdigest()[:16]


def _line(fields):
    body = _ENCODER.encode(fields).encode("utf-8")[:-1]  # without its "}"
    return body + b',"sum":"%08x"}\n' % zlib.crc32(body)


def put_record(after, repository):
    """Return the line that records ``repository`` as it now is."""
    return _line({"after": after, "put": repository})


def delete_record(after, repo_name):
    """Return the line that records that the repository ``repo_name`` is gone."""
    return _line({"after": after, "delete": repo_name})


def tag_record(after, repo_name, tag, image_id, pushed_at):
    """Return the line that records a push of ``tag`` of ``repo_name`` at ``pushed_at`` (``document.with_tag``)."""
    return _line(
        {"after": after, "tag": {"repo_name": repo_name, "tag": tag, "image_id": image_id, "pushed_at": pushed_at}}
    )


def compacted_record(after, new_snapshot):
    """Return the line that says this log is wholly in the snapshot ``new_snapshot``."""
    return _line({"after": after, "compacted": new_snapshot})


class Tail:
    """What reading a log found: its records, and the length of its whole records.

    ``torn`` tells whether bytes follow the last whole record: a record a
    crash cut short (never acknowledged), or one being written right now.
    """

    __slots__ = ("length", "records", "torn")

    def __init__(self, records, length, torn):
        self.records = records
        self.length = length
        self.torn = torn


def read_records(namespace, data, start=0):
    """Return the Tail of ``data``, log bytes from offset ``start``; CorruptNamespace for a damaged record.

    A record that fails its checksum, or breaks the format, is damage when a
    whole record follows it; as the last, it is a torn record, left out.
    """
    records, position = [], 0
    lines = data.split(b"\n")
    for index, line in enumerate(lines[:-1]):  # the last piece has no newline: not a whole record
        record = _record(namespace, line)
        if record is None:
            if any(_record(namespace, later) is not None for later in lines[index + 1 : -1]):
                where = start + position
                raise CorruptNamespace(namespace, "its log has a damaged record at byte %d" % where)
            return Tail(records, start + position, True)
        records.append(record)
        position += len(line) + 1
    return Tail(records, start + position, position < len(data))


def _record(namespace, line):
    """Return the record a whole line holds ({"after", and one of KINDS}), or None."""
    body, tail = line[:-SUM_LENGTH], line[-SUM_LENGTH:]
    if len(line) <= SUM_LENGTH or tail != b',"sum":"%08x"}' % zlib.crc32(body):
        return None
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
        and is_image_id(push["image_id"])
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
