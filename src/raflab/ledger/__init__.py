"""The reproduction ledger: every headline claim of the papers raflab implements, one command to check it.

``raflab reproduce --list`` shows the claims; ``raflab reproduce CLAIM... | --all --budget quick|full|paper``
measures them through the result store (resumable) and prints a verdict per claim
(:mod:`raflab.ledger.run`). The claims are in :mod:`raflab.ledger.registry`; their measurements call
the systems' own APIs (:mod:`raflab.ledger.measures_theory`, :mod:`raflab.ledger.measures_seq`).
"""
