"""`slokit backfill`: write the recorded history a fresh deployment lacks.

The windows above 2h (and the SLO-window budget) average the recorded 5m base
rates. Right after the rules are loaded that record covers minutes, while the
raw counters may hold weeks: the long windows would then describe only the
time since the deployment. This front end reads the plan, picks the recorded
series that rules read in the past (a range or an `offset`), and has
`promtool tsdb create-blocks-from rules` compute them from the raw counters
for the span before recording began, in dependency order.
"""
