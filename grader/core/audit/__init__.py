"""Audits: the review queue and its blinding pseudonyms, sessions (a seeded stratified sample, K reviewer slots per
patch claimed as leases), adjudication of disagreements, gold items, and synthetic stores with simulated
reviewers for benches. Imports `grader.core.importers`, `grader.core.patches`, `grader.core.store` and
`grader.core.text`.
"""
