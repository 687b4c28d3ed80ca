"""Every claim of the invariance article as an experiment with a computed verdict.

``shiftaug experiment --preset claims`` runs a *suite*: several experiments (``parts``) that
share defaults, each an ordinary experiment folder under ``OUT/<part>/``. Then
:func:`~.verdicts.claim_rows` turns their results into one row per claim (our numbers,
the literature's, a verdict computed by stated rules) and :func:`~.report.write_claims`
writes ``OUT/claims.md``, ``OUT/results.json`` and ``OUT/plots/``.

- :mod:`.suite`: loading and running a suite
- :mod:`.stats`: the statistics behind the verdicts
- :mod:`.literature`: published numbers, each with its source
- :mod:`.verdicts`: one function per claim
- :mod:`.report`, :mod:`.plots`: claims.md and its figures
"""
