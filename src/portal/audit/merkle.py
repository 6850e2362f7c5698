r"""The Merkle tree of the audit log, as defined by Certificate Transparency v2 (RFC 9162).

Pure functions over SHA-256 hashes; no Django, no database. The storage and sequencer code keeps the
hashes and calls these functions; the verifiers here are what an auditor (or ``portal audit verify``)
runs.

Tree shape (RFC 9162 section 2.1.1)
-----------------------------------
The tree over the ordered list of entries ``D[0:n]`` is fixed by ``n`` alone::

    MTH({})     = SHA-256()                                   (EMPTY_ROOT)
    MTH({d(0)}) = SHA-256(0x00 || d(0))                       (leaf_hash)
    MTH(D[n])   = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  (node_hash)
                  where k is the largest power of two smaller than n

The distinct prefixes for leaves and interior nodes keep a leaf from ever passing for a node (second
preimage resistance). Because ``k`` is a power of two, the left subtree is always *perfect* (full,
``k`` leaves) and the tree is left-balanced. Equivalently: write ``n`` in binary; the tree consists of
one perfect subtree for each set bit, largest (leftmost) first, and the root folds them together from
the right. For n = 7 (binary 111) that is the subtrees over leaves [0, 4), [4, 6) and [6, 7)::

                   root
                 /      \
            [0,4)        .
            /   \       /  \
        [0,2)  [2,4) [4,6)  6
         / \    / \   / \
        0   1  2   3 4   5

Node addressing
---------------
A perfect subtree aligned to its own size is addressed as ``(level, index)``: it covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a single leaf. Such a node never changes once
its last leaf is appended, so the storage can write each one exactly once (``Frontier.append`` reports
them) and answer every proof from them: every subtree that RFC 9162 proofs name is a tree node of the
shape above, whose hash is the fold of at most ``log2(n) + 1`` perfect aligned subtrees
(``range_nodes`` / ``range_hash``).

Proofs
------
- ``inclusion_ranges`` gives the subtrees whose hashes form the audit path of RFC 9162 section
  2.1.3.1; ``verify_inclusion`` is the verification algorithm of section 2.1.3.2.
- ``consistency_ranges`` gives the subtrees whose hashes form the consistency proof of section 2.1.4.1;
  ``verify_consistency`` is the algorithm of section 2.1.4.2.
- ``Frontier`` is the incremental form of the tree-head computation of section 2.1.2: the hashes of the
  perfect subtrees of the current tree, enough to append and to compute the root without the leaves.

A proof binds a leaf (or an older tree) to a root *and a tree size*, but a root on its own does not fix
the size: for some sizes the audit path of the same leaf has the same shape (index 0 has the same path
in trees of size 3 and 4). Tree heads must therefore sign the size together with the root.

Argument errors (negative numbers, an index outside the tree, an old size of 0 or larger than the new
one) raise ``ProofRangeError``, a ``ValueError``, so that the API can answer them with a 4xx. Malformed
*evidence* (hashes or proofs of the wrong length, a wrong proof) never raises: the verifiers return
False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "Frontier",
    "ProofRangeError",
    "consistency_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "range_nodes",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32

_sha256 = hashlib.sha256

#: MTH of the empty list: the hash of no bytes at all (RFC 9162 section 2.1.1).
EMPTY_ROOT: bytes = _sha256(b"").digest()


class ProofRangeError(ValueError):
    """The sizes or index asked for do not describe a possible proof (a client error, not a bug)."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of one entry: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already hashed leaves (RFC 9162 section 2.1.1); ``EMPTY_ROOT`` for no leaves.

    Computed level by level: pair neighbours, and carry an odd last node up unchanged. That builds the
    same left-balanced tree as the recursive definition, without recursion and with one hash per node.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        carry = [level[-1]] if len(level) % 2 else []
        level = [
            _sha256(NODE_PREFIX + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=False)
        ]
        level += carry
    return level[0]


def _fold(hashes: Sequence[bytes]) -> bytes:
    # The perfect subtrees of a range, largest first, combined from the right: the RFC's recursive
    # split always puts the largest one on the left and the (smaller) rest on the right.
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = _sha256(NODE_PREFIX + left + result).digest()
    return result


def _split(n: int) -> int:
    # k of RFC 9162 section 2.1.1: the largest power of two smaller than n (n >= 2).
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """Incremental appender: the roots of the perfect subtrees of the current tree.

    A tree of ``size`` leaves is one perfect subtree per set bit of ``size`` (see the module
    docstring); those subtree hashes, largest first, are all the state needed to append the next leaf
    and to compute the root. Saving ``(size, hashes)`` and restoring with ``Frontier(size, hashes)``
    continues exactly where it stopped.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError(f"a tree cannot have {size} leaves")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} perfect subtrees, not {len(hashes)}"
            )
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"subtree hashes are {HASH_SIZE} bytes")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """The state to save: the perfect subtree hashes, largest subtree first (a copy)."""
        return list(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return every perfect subtree it completes as ``(level, index, hash)``.

        The first item is always the leaf itself ``(0, position, leaf)``; then one item per level the
        new leaf closes, e.g. appending leaf 7 completes ``(1, 3, ...)`` over [6, 8), ``(2, 1, ...)``
        over [4, 8) and ``(3, 0, ...)`` over [0, 8).
        """
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        current = bytes(leaf)
        position = self._size
        completed = [(0, position, current)]
        hashes = self._hashes
        level = 0
        # Each trailing 1 bit of the old size is a perfect subtree of the same size as the one just
        # finished, directly to its left: merge them, as when adding 1 to a binary number.
        while (position >> level) & 1:
            current = _sha256(NODE_PREFIX + hashes.pop() + current).digest()
            level += 1
            completed.append((level, position >> level, current))
        hashes.append(current)
        self._size = position + 1
        return completed

    def root(self) -> bytes:
        """MTH of all leaves so far (``EMPTY_ROOT`` when empty)."""
        return _fold(self._hashes)

    def __repr__(self) -> str:
        return f"Frontier(size={self._size})"


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect aligned subtrees ``(level, index)`` whose fold is MTH(D[start:end]), largest first.

    Defined for the ranges that are nodes of a tree whose leaves start at 0: ``start`` must be a
    multiple of the smallest power of two >= ``end - start`` (every range named by an inclusion or
    consistency proof, and every prefix ``[0, n)``, is one). Then the range is one perfect subtree per
    set bit of its length, at most ``log2(end - start) + 1`` of them. Any other range raises
    ``ProofRangeError``: its MTH is not made of the tree's stored nodes (it would need down to one
    node per leaf), and asking for it is a bug in the caller. An empty range has no nodes.
    """
    if start < 0 or end < start:
        raise ProofRangeError(f"[{start}, {end}) is not a range of leaves")
    length = end - start
    if length == 0:
        return []
    if start % (1 << (length - 1).bit_length()):
        raise ProofRangeError(f"[{start}, {end}) is not a subtree of a Merkle tree starting at 0")
    nodes = []
    position = start
    for level in range(length.bit_length() - 1, -1, -1):
        if (length >> level) & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def range_hash(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) from the perfect subtree hashes given by ``node(level, index)``.

    Follows the RFC's recursive split (the largest power of two below the length on the left, the
    rest on the right; a perfect aligned range is a single node), using the nodes of ``range_nodes``;
    the same ranges are accepted. Whatever ``node`` raises for a missing node (``KeyError``, ...)
    propagates. ``EMPTY_ROOT`` for an empty range.
    """
    return _fold([node(level, index) for level, index in range_nodes(start, end)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form the audit path PATH(index, D[0:size]) (RFC 9162 section 2.1.3.1).

    In path order: the sibling nearest the leaf first, the other half of the whole tree last. Empty
    for the single leaf of a tree of size 1.
    """
    if size <= 0 or index < 0 or index >= size:
        raise ProofRangeError(f"leaf {index} is not in a tree of size {size}")
    siblings = []
    low, high = 0, size
    # Walk down from the root: at each split the leaf's half is descended into, the other half is
    # the next (upper) element of the path.
    while high - low > 1:
        middle = low + _split(high - low)
        if index < middle:
            siblings.append((middle, high))
            high = middle
        else:
            siblings.append((low, middle))
            low = middle
    siblings.reverse()
    return siblings


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(old_size, D[0:new_size]) (RFC 9162 section 2.1.4.1).

    In proof order. Defined for 0 < old_size <= new_size; old_size == new_size gives an empty proof.
    """
    if old_size <= 0 or new_size < old_size:
        raise ProofRangeError(f"no consistency proof from tree size {old_size} to {new_size}")
    upper = []
    low, high = 0, new_size
    # SUBPROOF(m, D[n], b) walks down to the subtree whose right edge is old_size; b stays true only
    # while that subtree is a prefix of the tree, whose hash the verifier already holds.
    known_prefix = True
    while old_size != high:
        middle = low + _split(high - low)
        if old_size <= middle:
            upper.append((middle, high))
            high = middle
        else:
            upper.append((low, middle))
            low = middle
            known_prefix = False
    upper.reverse()
    return upper if known_prefix else [(low, high), *upper]


def _is_hash(value: bytes) -> bool:
    return len(value) == HASH_SIZE


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves the leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``.

    The algorithm of RFC 9162 section 2.1.3.2. ``leaf`` is the leaf *hash* (``leaf_hash(entry)``).
    Raises ``ProofRangeError`` when ``index`` cannot be in a tree of ``size``; returns False for
    anything wrong with the hashes or the path.
    """
    if size <= 0 or index < 0 or index >= size:
        raise ProofRangeError(f"leaf {index} is not in a tree of size {size}")
    if not (_is_hash(leaf) and _is_hash(root) and all(_is_hash(p) for p in path)):
        return False
    fn, sn = index, size - 1
    result = bytes(leaf)
    for p in path:
        if sn == 0:
            return False  # the path is longer than the tree is deep
        if fn & 1 or fn == sn:
            result = _sha256(NODE_PREFIX + p + result).digest()
            if not fn & 1:
                # The leaf is on the right edge of an incomplete tree: skip the levels where it has
                # no sibling (it was carried up unchanged).
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = _sha256(NODE_PREFIX + result + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows that the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    The algorithm of RFC 9162 section 2.1.4.2; for equal sizes the proof must be empty and the roots
    equal. Raises ``ProofRangeError`` unless 0 < old_size <= new_size; returns False for anything
    wrong with the hashes or the proof.
    """
    if old_size <= 0 or new_size < old_size:
        raise ProofRangeError(f"no consistency proof from tree size {old_size} to {new_size}")
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(c) for c in proof)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree of the new one; the verifier has its hash already.
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False  # the proof is longer than the new tree is deep
        if fn & 1 or fn == sn:
            fr = _sha256(NODE_PREFIX + c + fr).digest()
            sr = _sha256(NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
