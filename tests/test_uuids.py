"""uuids.v4: the text of a random version-4 UUID, exactly as str(uuid.uuid4()) formats one."""

from __future__ import annotations

import uuid

from litellm_dbctl.common import uuids


def test_v4_is_a_version_4_uuid_in_canonical_text() -> None:
    made = [uuids.v4() for _ in range(2000)]
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert len(set(made)) == len(made)
    assert {text[19] for text in made} == set("89ab")  # the two variant bits fixed, the other two random


def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    """Ids are drawn from a pool of random bytes; a child process must not inherit the pool."""
    import os

    uuids.v4()  # the pool now holds ids
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, "\n".join(uuids.v4() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        from_child = set(pipe.read().split("\n"))
    assert from_child.isdisjoint(uuids.v4() for _ in range(300))
