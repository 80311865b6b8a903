"""Where a real run delivers its outbox: JSON lines appended to a file or standard output.

Records are appended and flushed once per batch, so a consumer tailing the
file sees whole batches, and a crash loses at most the batch not yet marked
delivered in the log (which `--resume` sends again from `outbox_after`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import orjson

from accord.errors import UsageError


class JsonLinesSink:
    """Append outbox records (JSON text, bytes or plain values) as one line each."""

    def __init__(self, path_or_dash: str):
        self.target = path_or_dash
        if path_or_dash == "-":
            self._stream = sys.stdout
            self._owned = False
            return
        directory = os.path.dirname(os.path.abspath(path_or_dash))
        if not os.path.isdir(directory):
            raise UsageError(f"cannot write the outbox to '{path_or_dash}': no directory '{directory}'")
        try:
            self._stream = open(path_or_dash, "a", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise UsageError(f"cannot write the outbox to '{path_or_dash}': {exc.strerror.lower()}") from None
        self._owned = True

    def write(self, records: Iterable[Any]) -> int:
        """Write a batch of records, then flush; returns how many were written."""
        lines = []
        for record in records:
            if isinstance(record, str):
                text = record
            elif isinstance(record, (bytes, bytearray)):
                text = bytes(record).decode("utf-8")
            else:
                text = orjson.dumps(record).decode("utf-8")
            if "\n" in text:  # pretty-printed JSON would break the one-record-per-line contract
                text = orjson.dumps(orjson.loads(text)).decode("utf-8")
            lines.append(text)
        if lines:
            try:
                self._stream.write("\n".join(lines) + "\n")
                self._stream.flush()
            except BrokenPipeError:
                raise UsageError(
                    "the reader of the outbox closed standard output before the run finished",
                    help="the outbox stays in the log: run again with --resume to go on and deliver the rest",
                ) from None
            except OSError as exc:  # a full disk, a vanished mount: the user's to fix, nothing is lost
                raise UsageError(
                    f"cannot write the outbox to '{self.target}': {(exc.strerror or str(exc)).lower()}",
                    help="the outbox stays in the log: fix the target and run again with --resume to deliver it",
                ) from None
        return len(lines)

    def close(self) -> None:
        try:
            if self._owned:
                self._stream.close()
            else:
                self._stream.flush()
        except OSError:  # the failure was reported by `write`; closing must not hide it
            pass

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
