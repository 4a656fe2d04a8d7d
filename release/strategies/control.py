"""The control share's end: after the backup window, the old colour's share goes to the new live colour.

From the last step until the promotion has proved itself, the old colour keeps ``release:controlWeight`` percent of
the traffic, so the candidate (and then the new live colour) is always compared with traffic served in the same
minutes. The decision taken, the control goes: one compare-and-set write of ``release:canaryWeight`` 0 (only if the
release is still the last one and its colour still live), one update targeted at the listener when the stack exports
its URN, and the listener verified. If the update or the verification fails, the weight is put back, so the
record and what the listener serves agree: the old state or the new one holds.
"""

from __future__ import annotations

from collections.abc import Callable

from components.config import Colour, load
from components.config.release_record import ReleaseRecord
from release.context import Context
from release.engine import EngineError
from release.state import record as records
from release.strategies.failure import StepFailure

Update = Callable[[str, list[str] | None], None]
"""One recorded stack update, optionally targeted (``StepRunner._update``)."""
Verify = Callable[[Colour, int], object]
"""Wait until the listener serves a colour this percent (``StepRunner.verify``)."""
WEIGHT = "release:canaryWeight"


def end_control(ctx: Context, record: ReleaseRecord, old: Colour, update: Update, verify: Verify) -> ReleaseRecord:
    """Send the old colour's control share to the new live colour, verified; the record is unchanged."""
    live = old.other
    before = ctx.engine.get_config()
    share = load(before, ctx.stack).release.canary_weight
    if share == 0:
        return record

    def still_live(merged: dict[str, str]) -> None:
        now_live = load(merged, ctx.stack).release.live
        if now_live is not live:
            msg = "ending the control share"
            raise StepFailure(msg, f"{now_live} is live now, not {live}: the listener was left as it is",
                              f"python -m release status --stack {ctx.stack}")

    try:
        records.commit(ctx.engine, None, None, {WEIGHT: "0"}, check=still_live, expect_last=record.id)
    except records.ReleaseEndedError as exc:
        msg = "ending the control share"
        raise StepFailure(msg, f"{exc.why}: the listener was left as it is", exc.next_command) from exc
    outputs = ctx.engine.outputs()
    targets = [str(outputs["listener_urn"])] if outputs.get("listener_urn") else None
    try:
        update(f"release {record.id}: {old}'s {share}% control share to {live}", targets)
        verify(old, 0)
    except (EngineError, StepFailure, KeyboardInterrupt) as exc:
        try:
            records.commit(ctx.engine, None, None, {WEIGHT: str(share)}, expect_last=record.id)
        except Exception as second:  # noqa: BLE001 - the first failure is the one raised; this one is reported
            ctx.reporter.note(f"could not put the control share back in the release state after {type(exc).__name__}: {second}")
        raise
    ctx.reporter.note(f"control ended: {live} serves 100%, {old} 0%")
    return record
