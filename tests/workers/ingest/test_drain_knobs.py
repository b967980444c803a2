"""The drain under the sandbox's knobs for answers Frame.io's docs leave open (README
"Undocumented answers"): a stack's id as a folder, media types left out mid-upload, lagging reads."""

from __future__ import annotations

import pytest

from tests.inprocess_sandbox import InProcessSandbox
from tests.workers.ingest.test_drain import deliver, drain, drain_a_file_listed_mid_upload, queued_files, rt
from tests.workers.stacking.test_knobs import lagging
from workers import decisions
from workers.runtime import Runtime

__all__ = ["rt"]  # the fixture


@pytest.mark.parametrize("status", ["404", "400", "422"])
def test_a_file_already_in_a_stack_goes_to_its_own_job_whatever_a_folder_call_answers(
    rt: Runtime, sandbox: InProcessSandbox, status: str
) -> None:
    sandbox.configure(stack_as_folder=status)
    folder = sandbox.folder("by-hand")
    ids = [sandbox.upload(folder, f"hand_v{version}.mov") for version in (1, 2)]
    rt.frameio().create_stack(sandbox.account, folder, ids)  # a person stacked them first
    deliver(rt, sandbox, ids[0])

    assert drain(rt, sandbox) == "drained"

    assert queued_files(rt) == {ids[0]}
    assert not decisions.for_file(rt.redis(), ids[0])  # not decided "failed": its job answers


def test_a_file_listed_mid_upload_without_a_media_type_is_read_before_it_is_grouped(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    sandbox.configure(media_type_before_upload="null")  # the first listing shows v2 without a media type
    folder = drain_a_file_listed_mid_upload(rt, sandbox)

    assert sandbox.stacks(folder) == [["mid_v2.mov", "mid_v1.mov"]]
    # Read again (a page of the folder, newest first), not guessed from the listing that lacked it.
    assert sandbox.calls("show_file") + sandbox.calls("list_folder_children") == 1


def test_a_file_lagging_reads_do_not_show_yet_goes_to_its_own_job_not_to_a_failure(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    lagging(sandbox)
    folder = sandbox.folder("lag")
    other = [sandbox.upload(folder, name) for name in ("b_v1.mov", "b_v2.mov")]
    rt.frameio().create_stack(sandbox.account, folder, other)  # a write: reads lag for 2 s
    late = sandbox.upload(folder, "a_v1.mov")
    deliver(rt, sandbox, late)

    assert drain(rt, sandbox) == "drained"

    assert queued_files(rt) == {late}
    assert {decision.outcome for decision in decisions.for_file(rt.redis(), late)} == {"waiting"}
