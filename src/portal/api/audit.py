"""The audit log's tree in the JSON API: the latest signed tree head and the proofs (RFC 9162).

These are public, like a Certificate Transparency log's: a tree head, a leaf hash or an audit path
says nothing about what happened, and anyone may check that the log only ever grows.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from portal.api.schemas import ProblemOut
from portal.audit import signing, tree
from portal.common.errors import ApplicationError, NotFoundError

router = Router(tags=["audit"])
#: Leaf numbers and sizes are 64-bit in the database; larger numbers are refused as input.
MAX_SIZE = 2**63 - 1


class ProofOutOfRange(ApplicationError):
    code = "proof-out-of-range"


class TreeHeadOut(Schema):
    size: int = Field(description="Number of events (leaves) in the tree.")
    root_hash: str = Field(description="The tree's root hash (RFC 9162 MTH), hex.")
    signed_at: datetime
    signed_at_ms: int = Field(description="The signing time as signed: ms since 1970-01-01 UTC.")
    signature: str = Field(description="Ed25519 signature, hex, over the signed text.")
    key_id: str
    public_key: str = Field(description="The Ed25519 public key (raw 32 bytes), hex.")
    signed_text: str = Field(
        description="What is signed: 'portal-audit-tree-head-v1\\n<size>\\n<root hex>\\n<ms>\\n'."
    )


class InclusionQuery(Schema):
    index: int = Field(ge=0, le=MAX_SIZE, description="The leaf number of the event.")
    size: int = Field(ge=1, le=MAX_SIZE, description="The size of a signed tree head.")


class InclusionOut(Schema):
    index: int
    size: int
    leaf_hash: str
    audit_path: list[str] = Field(description="RFC 9162 2.1.3 audit path, hex, leaf to root.")


class ConsistencyQuery(Schema):
    first: int = Field(ge=1, le=MAX_SIZE, description="The size of the older signed tree head.")
    second: int = Field(ge=1, le=MAX_SIZE, description="The size of the newer signed tree head.")


class ConsistencyOut(Schema):
    first: int
    second: int
    proof: list[str] = Field(description="RFC 9162 2.1.4 consistency proof, hex.")


@router.get(
    "/audit/tree-head",
    auth=None,
    response={200: TreeHeadOut, 404: ProblemOut},
    summary="The latest signed tree head",
    description="The audit log's newest signed tree head. Public.",
    operation_id="audit_tree_head",
    url_name="audit_tree_head",
)
def tree_head(request: HttpRequest) -> TreeHeadOut:
    head = tree.latest_head()
    if head is None:
        raise NotFoundError(_("Loggen har inget signerat trädhuvud ännu."))
    keys = tree.public_keys()
    root = bytes(head.root_hash)
    return TreeHeadOut(
        size=head.size,
        root_hash=root.hex(),
        signed_at=head.signed_at,
        signed_at_ms=int(head.signed_at.timestamp() * 1000),
        signature=bytes(head.signature).hex(),
        key_id=head.key_id,
        public_key=keys.get(head.key_id, b"").hex(),
        signed_text=signing.signed_bytes(head.size, root, head.signed_at).decode(),
    )


@router.get(
    "/audit/proofs/inclusion",
    auth=None,
    response={200: InclusionOut, 400: ProblemOut, 422: ProblemOut},
    summary="Inclusion proof of an event",
    description="The audit path of leaf `index` in the tree of a signed head of `size`. "
    "An index or size outside the tree is a 400 problem. Public.",
    operation_id="audit_inclusion_proof",
    url_name="audit_inclusion_proof",
)
def inclusion(request: HttpRequest, query: Query[InclusionQuery]) -> InclusionOut:
    try:
        path = tree.inclusion_proof(query.index, query.size)
        leaf = tree.leaf_hash_at(query.index)
    except tree.ProofError as error:
        raise ProofOutOfRange(_("Beviset kan inte ges: %(why)s.") % {"why": error}) from None
    return InclusionOut(
        index=query.index, size=query.size, leaf_hash=leaf.hex(), audit_path=[h.hex() for h in path]
    )


@router.get(
    "/audit/proofs/consistency",
    auth=None,
    response={200: ConsistencyOut, 400: ProblemOut, 422: ProblemOut},
    summary="Consistency proof between two tree heads",
    description="The proof that the tree of signed head `second` extends that of `first`. "
    "Sizes that are not signed heads, or first > second, are a 400 problem. Public.",
    operation_id="audit_consistency_proof",
    url_name="audit_consistency_proof",
)
def consistency(request: HttpRequest, query: Query[ConsistencyQuery]) -> ConsistencyOut:
    try:
        proof = tree.consistency_proof(query.first, query.second)
    except tree.ProofError as error:
        raise ProofOutOfRange(_("Beviset kan inte ges: %(why)s.") % {"why": error}) from None
    return ConsistencyOut(first=query.first, second=query.second, proof=[h.hex() for h in proof])
