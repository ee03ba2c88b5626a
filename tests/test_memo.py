"""``Memo``: the bounded in-process caches every tool uses (a served graph must not grow without bound)."""

from __future__ import annotations

import pytest
from tool_fakes import fake_detector

from vidagent.tools import VideoSession
from vidagent.tools.memo import Memo


def test_least_recently_used_entry_goes_first():
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recent
    memo.put("c", 3)
    assert "b" not in memo and memo.get("a") == 1 and memo.get("c") == 3 and len(memo) == 2
    with pytest.raises(ValueError, match="max_entries"):
        Memo(0)


def test_the_detector_keeps_at_most_its_bound_of_tracked_chunks(tiny_video):
    detector = fake_detector(chunk_s=1.0)  # 6 chunks in the 6 s video
    detector._chunks = Memo(2)
    session = VideoSession(tiny_video)
    for chunk in range(6):
        detector.tracked_chunk(session, chunk)
    assert len(detector._chunks) == 2
    calls = detector.model.calls
    detector.tracked_chunk(session, 5)  # still memoised: no detection
    assert detector.model.calls == calls
