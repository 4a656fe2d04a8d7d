"""Rollback figures, from rehearsals on the injected clock.

- resources a fast rollback touches: what the rollback's stack update changed;
  target 1 (the listener), both after a promotion (live flips back) and during
  a canary (the candidate back to 0).
- engine updates a rollback needs: stack updates issued by the rollback; target 1.
"""

from __future__ import annotations

from components.config import Strategy
from rehearsal.scenarios.rollbacks import interrupt_in_first_bake, rehearse_rollback, stage
from release.rollback.fast import fast_rollback


def _rows(case: str, strategy: Strategy, touched: int | None, updates: int | None) -> list[dict[str, object]]:
    return [
        {"benchmark": "resources a fast rollback touches", "case": case, "strategy": strategy.value, "resources": touched,
         "target": 1, "ok": touched == 1},
        {"benchmark": "engine updates a rollback needs", "case": case, "strategy": strategy.value, "updates": updates,
         "target": 1, "ok": updates == 1},
    ]


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for strategy in (Strategy.CANARY, Strategy.BLUE_GREEN):
        flipped = rehearse_rollback("staging", "rollback-after-promote", strategy=strategy).summary["rollback"]
        rows.extend(_rows("after a promotion", strategy, flipped["touched"], flipped["updates"]))
        with stage("staging", (), strategy, None) as st:
            interrupt_in_first_bake(st, "rehearsal-1")
            done = fast_rollback(st.ctx, "bench: during a canary")
        rows.extend(_rows("during a canary", strategy, done.touched, done.updates))
    return rows
