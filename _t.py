import time, sys, numpy as np
import release.judgement.significance as sig
import release.judgement.checks as chk
from bench.canary_sim import Case, simulate, Streams
from components.config.release_analysis import AnalysisConfig
grid = tuple(float(x) for x in sys.argv[1].split(","))
sig.ODDS_GRID = grid; chk.ODDS_GRID = grid
L=AnalysisConfig.model_validate({"errors": {"confidence": float(sys.argv[2])}})
for case in (Case("2x", candidate_rate=0.02), Case("healthy")):
    t=time.time(); o=simulate(case, L, Streams(list(range(4)), 500))
    s2 = o.aborted & (o.aborted_at <= np.nan_to_num(o.step_ends[:,1], nan=1e9))
    print(grid, sys.argv[2], case.name, round(time.time()-t,1), "aborted", o.aborted.mean(), "by step2", s2.mean(), "unsettled", o.unsettled.mean(), "median end", np.nanmedian(o.step_ends[:,-1]))
