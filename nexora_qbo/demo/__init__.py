"""`nexora-qbo demo`: a month of staffing billing synced both ways against the local sandbox.

Why a package of its own (issue 9): the demo starts the sandbox, and the engine package (`sync/`) must not
import it. `month.py` is the story, `words.py` turns the engine's counters into a bookkeeper's words, and
`tie_out.py` ends the month by comparing both books (one function, so the engine's own tie-out can replace it).
"""

from nexora_qbo.demo.month import main

__all__ = ["main"]
