"""Statistics: rates with intervals and agreement coefficients (pure functions of counts), corrected pass rates and
planning, the records loaded from the store and their per-group tallies, session designs, the report and the
live panel's incremental figures, reviewer accuracy on gold, and the verifier checked against itself. Imports
every lower layer of `grader.core` (audit, importers, patches, store, text).
"""
