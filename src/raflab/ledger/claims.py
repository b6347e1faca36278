"""The ledger's claims, all of them: the theory-side systems' first, then the sequence and agent papers'."""

from __future__ import annotations

from raflab.ledger.measures_seq import SEQ_CLAIMS
from raflab.ledger.measures_theory import THEORY_CLAIMS
from raflab.ledger.registry import Claim


def all_claims() -> list[Claim]:
    """Every claim of the ledger, in a fixed order (theory-side systems first)."""
    return list(THEORY_CLAIMS) + list(SEQ_CLAIMS)


def claims_by_id(ids=None) -> list[Claim]:
    """The claims named by ``ids`` (all when None), in the ledger's order; an unknown id is an error."""
    claims = all_claims()
    if not ids:
        return claims
    known = {c.id: c for c in claims}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"unknown claim {', '.join(unknown)}; see raflab reproduce --list")
    return [known[i] for i in ids]
