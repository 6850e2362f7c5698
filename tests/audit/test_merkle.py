"""The RFC 9162 Merkle tree: known answers from the CT reference code, and properties against the
RFC's recursive definitions (written out again here, independently of the module)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    LEAF_PREFIX,
    NODE_PREFIX,
    Frontier,
    ProofRangeError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_hash,
    range_nodes,
    root,
    verify_consistency,
    verify_inclusion,
)

# The test vectors of the Certificate Transparency reference implementations (C++
# certificate-transparency merkle_tree_test, Go transparency-dev/merkle proof/verify_test.go).
LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (index, size, path); the reference code numbers leaves from 1, these from 0.
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old_size, new_size, proof)
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


# --- The RFC 9162 definitions, recursively and without the module ------------------------------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH, PATH and PROOF of RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1 over given leaf hashes."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, start: int, end: int) -> bytes:
        if (start, end) not in self._memo:
            n = end - start
            if n == 0:
                value = hashlib.sha256(b"").digest()
            elif n == 1:
                value = self.leaves[start]
            else:
                k = _split(n)
                left, right = self.mth(start, start + k), self.mth(start + k, end)
                value = hashlib.sha256(b"\x01" + left + right).digest()
            self._memo[start, end] = value
        return self._memo[start, end]

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self.mth(start, end)]
        k = _split(n)
        if m <= k:
            return [
                *self.subproof(m, start, start + k, complete=complete),
                self.mth(start + k, end),
            ]
        return [*self.subproof(m - k, start + k, end, complete=False), self.mth(start, start + k)]


def _leaves(size: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def _grow(leaves: Sequence[bytes]) -> tuple[Frontier, dict[tuple[int, int], bytes]]:
    frontier = Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for level, index, value in frontier.append(leaf):
            assert (level, index) not in nodes  # every node is reported exactly once
            nodes[level, index] = value
    return frontier, nodes


def _node(nodes: dict[tuple[int, int], bytes]) -> Callable[[int, int], bytes]:
    return lambda level, index: nodes[level, index]


def _flip(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def _rejected(verify: Callable[..., bool], arguments: tuple[Any, ...]) -> bool:
    # Tampered sizes may leave the range of possible proofs; refusing to verify is also a rejection.
    try:
        return not verify(*arguments)
    except ProofRangeError:
        return True


# --- Known answers ------------------------------------------------------------------------------


def test_constants_and_hashes_match_rfc_6962() -> None:
    assert (LEAF_PREFIX, NODE_PREFIX, HASH_SIZE) == (b"\x00", b"\x01", 32)
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"").hex() == ROOTS[1]
    assert leaf_hash(b"").hex() != EMPTY_ROOT.hex()
    assert (
        leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_roots_of_the_reference_tree(size: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES[:size]]
    frontier, nodes = _grow(hashes)
    assert root(hashes).hex() == ROOTS[size]
    assert frontier.root().hex() == ROOTS[size]
    assert range_hash(0, size, _node(nodes)).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_PROOFS)
def test_inclusion_proofs_of_the_reference_tree(index: int, size: int, expected: list[str]) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES]
    _, nodes = _grow(hashes)
    path = [range_hash(s, e, _node(nodes)) for s, e in inclusion_ranges(index, size)]
    assert [p.hex() for p in path] == expected
    tree_root = bytes.fromhex(ROOTS[size])
    leaf = hashes[index]
    assert verify_inclusion(index, size, leaf, path, tree_root)
    # The corruptions of the reference verifier's tests.
    probes: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (index - 1, size, leaf, path, tree_root),
        (index + 1, size, leaf, path, tree_root),
        (index ^ 2, size, leaf, path, tree_root),
        (index, size * 2, leaf, path, tree_root),
        (index, size // 2, leaf, path, tree_root),
        (index, size, b"WrongLeaf", path, tree_root),
        (index, size, leaf, path, EMPTY_ROOT),
        (index, size, leaf, path, SOME_HASH),
        (index, size, leaf, [*path, b""], tree_root),
        (index, size, leaf, [*path, tree_root], tree_root),
        (index, size, leaf, [b"", *path], tree_root),
        (index, size, leaf, [tree_root, *path], tree_root),
    ]
    probes += [
        (index, size, leaf, [*path[:i], _flip(path[i]), *path[i + 1 :]], tree_root)
        for i in range(len(path))
    ]
    if path:
        probes.append((index, size, leaf, path[:-1], tree_root))
    if len(path) > 1:
        probes.append((index, size, leaf, [path[0], SOME_HASH, *path[1:]], tree_root))
    for probe in probes:
        assert _rejected(verify_inclusion, probe), probe


@pytest.mark.parametrize(("old_size", "new_size", "expected"), CONSISTENCY_PROOFS)
def test_consistency_proofs_of_the_reference_tree(
    old_size: int, new_size: int, expected: list[str]
) -> None:
    _, nodes = _grow([leaf_hash(leaf) for leaf in LEAVES])
    proof = [range_hash(s, e, _node(nodes)) for s, e in consistency_ranges(old_size, new_size)]
    assert [p.hex() for p in proof] == expected
    old_root, new_root = bytes.fromhex(ROOTS[old_size]), bytes.fromhex(ROOTS[new_size])
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    if not proof:
        return
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (old_size - 1, new_size, old_root, new_root, proof),
        (old_size + 1, new_size, old_root, new_root, proof),
        (old_size ^ 2, new_size, old_root, new_root, proof),
        (old_size, new_size * 2, old_root, new_root, proof),
        (old_size, new_size // 2, old_root, new_root, proof),
        (old_size, new_size, b"WrongRoot", new_root, proof),
        (old_size, new_size, old_root, b"WrongRoot", proof),
        (old_size, new_size, new_root, old_root, proof),
        (old_size, new_size, old_root, new_root, []),
        (old_size, new_size, old_root, new_root, [*proof, b""]),
        (old_size, new_size, old_root, new_root, [*proof, old_root]),
        (old_size, new_size, old_root, new_root, [*proof, new_root]),
        (old_size, new_size, old_root, new_root, [b"", *proof]),
        (old_size, new_size, old_root, new_root, [old_root, *proof]),
        (old_size, new_size, old_root, new_root, [new_root, *proof]),
        (old_size, new_size, old_root, new_root, [proof[0], *proof]),
        (old_size, new_size, old_root, new_root, proof[:-1]),
    ]
    probes += [
        (old_size, new_size, old_root, new_root, [*proof[:i], _flip(proof[i], 4), *proof[i + 1 :]])
        for i in range(len(proof))
    ]
    for probe in probes:
        assert _rejected(verify_consistency, probe), probe


def test_append_reports_every_subtree_the_leaf_completes() -> None:
    hashes = _leaves(8)
    frontier, _ = _grow(hashes[:7])
    reference = Reference(hashes)
    assert frontier.append(hashes[7]) == [
        (0, 7, hashes[7]),
        (1, 3, reference.mth(6, 8)),
        (2, 1, reference.mth(4, 8)),
        (3, 0, reference.mth(0, 8)),
    ]
    assert frontier.append(hashes[0]) == [(0, 8, hashes[0])]
    assert frontier.size == 9
    assert len(frontier.hashes) == 2


def test_range_nodes_are_the_binary_digits_of_the_length() -> None:
    assert range_nodes(0, 0) == []
    assert range_nodes(5, 5) == []
    assert range_nodes(0, 1) == [(0, 0)]
    assert range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert range_nodes(8, 16) == [(3, 1)]
    assert range_nodes(8, 14) == [(2, 2), (1, 6)]
    assert range_nodes(6, 7) == [(0, 6)]
    assert range_hash(0, 0, _node({})) == EMPTY_ROOT


# --- Exhaustively for small trees, against the RFC's recursive definitions -----------------------


@pytest.mark.parametrize("size", range(1, 41))
def test_every_proof_of_a_small_tree(size: int) -> None:
    hashes = _leaves(size, b"small")
    reference = Reference(hashes)
    frontier, nodes = _grow(hashes)
    tree_root = frontier.root()
    assert tree_root == reference.mth(0, size)
    for index in range(size):
        path = [range_hash(s, e, _node(nodes)) for s, e in inclusion_ranges(index, size)]
        assert path == reference.path(index, 0, size)
        assert verify_inclusion(index, size, hashes[index], path, tree_root)
        for other in range(size):
            if other != index:
                assert not verify_inclusion(other, size, hashes[index], path, tree_root)
    for old_size in range(1, size + 1):
        proof = [range_hash(s, e, _node(nodes)) for s, e in consistency_ranges(old_size, size)]
        assert proof == reference.subproof(old_size, 0, size, complete=True)
        assert verify_consistency(old_size, size, reference.mth(0, old_size), tree_root, proof)


# --- Properties for larger random trees ---------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts)
def test_frontier_agrees_with_the_recursive_definition(size: int, salt: bytes) -> None:
    hashes = _leaves(size, salt)
    reference = Reference(hashes)
    frontier = Frontier()
    for position, leaf in enumerate(hashes):
        completed = frontier.append(leaf)
        # One perfect subtree per trailing one bit of the old size, plus the leaf itself.
        assert [(level, index) for level, index, _ in completed] == [
            (level, (position + 1 - 2**level) >> level)
            for level in range(len(completed))
            if (position + 1) % 2**level == 0
        ]
        for level, index, value in completed:
            assert value == reference.mth(index << level, (index + 1) << level)
        assert frontier.size == position + 1
        assert frontier.root() == reference.mth(0, position + 1)
        assert root(hashes[: position + 1]) == reference.mth(0, position + 1)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts)
def test_ranges_of_proofs_hash_from_stored_nodes(size: int, salt: bytes) -> None:
    hashes = _leaves(size, salt)
    reference = Reference(hashes)
    _, nodes = _grow(hashes)
    ranges = {(0, n) for n in range(size + 1)}
    for index in range(size):
        ranges.update(inclusion_ranges(index, size))
    for old_size in range(1, size + 1):
        ranges.update(consistency_ranges(old_size, size))
    for start, end in ranges:
        assert len(range_nodes(start, end)) <= (end - start).bit_length()
        assert range_hash(start, end, _node(nodes)) == reference.mth(start, end)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts)
def test_inclusion_proofs_verify_and_tampering_fails(size: int, salt: bytes) -> None:
    hashes = _leaves(size, salt)
    reference = Reference(hashes)
    frontier, nodes = _grow(hashes)
    tree_root = frontier.root()
    for index in range(size):
        path = [range_hash(s, e, _node(nodes)) for s, e in inclusion_ranges(index, size)]
        assert path == reference.path(index, 0, size)
        leaf = hashes[index]
        assert verify_inclusion(index, size, leaf, path, tree_root)
        assert not verify_inclusion(index, size, _flip(leaf), path, tree_root)
        assert not verify_inclusion(index, size, leaf, path, _flip(tree_root))
        assert not verify_inclusion(index, size, leaf[:-1], path, tree_root)
        assert not verify_inclusion(index, size, leaf, path, tree_root + b"\x00")
        for other in {index - 1, index + 1, index ^ 1, index ^ 2} - {index}:
            if 0 <= other < size:
                assert not verify_inclusion(other, size, leaf, path, tree_root)
        for i in range(len(path)):
            bit = (index * 37 + i * 11) % (8 * HASH_SIZE)  # a different bit for each element
            flipped = bytearray(path[i])
            flipped[bit // 8] ^= 1 << (bit % 8)
            tampered = [*path[:i], bytes(flipped), *path[i + 1 :]]
            assert not verify_inclusion(index, size, leaf, tampered, tree_root)
            assert not verify_inclusion(index, size, leaf, [*path[:i], *path[i + 1 :]], tree_root)
        assert not verify_inclusion(index, size, leaf, [*path, SOME_HASH], tree_root)
        assert not verify_inclusion(index, size, leaf, [SOME_HASH, *path], tree_root)
        assert not verify_inclusion(index, size, leaf, [*path, b""], tree_root)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts)
def test_consistency_proofs_verify_and_tampering_fails(size: int, salt: bytes) -> None:
    hashes = _leaves(size, salt)
    reference = Reference(hashes)
    frontier, nodes = _grow(hashes)
    new_root = frontier.root()
    for old_size in range(1, size + 1):
        old_root = reference.mth(0, old_size)
        proof = [range_hash(s, e, _node(nodes)) for s, e in consistency_ranges(old_size, size)]
        assert proof == reference.subproof(old_size, 0, size, complete=True)
        assert verify_consistency(old_size, size, old_root, new_root, proof)
        assert not verify_consistency(old_size, size, _flip(old_root), new_root, proof)
        assert not verify_consistency(old_size, size, old_root, _flip(new_root), proof)
        assert not verify_consistency(old_size, size, old_root[:-1], new_root, proof)
        assert not verify_consistency(old_size, size, old_root, new_root, [*proof, SOME_HASH])
        assert not verify_consistency(old_size, size, old_root, new_root, [SOME_HASH, *proof])
        assert not verify_consistency(old_size, size, old_root, new_root, [*proof, old_root])
        if old_size == size:
            assert proof == []
            continue
        assert not verify_consistency(old_size, size, new_root, old_root, proof)
        assert not verify_consistency(old_size, size, old_root, new_root, [])
        assert not verify_consistency(old_size, size, old_root, new_root, [*proof, b""])
        for i in range(len(proof)):
            tampered = [*proof[:i], _flip(proof[i], i % 8), *proof[i + 1 :]]
            assert not verify_consistency(old_size, size, old_root, new_root, tampered)
            shorter = [*proof[:i], *proof[i + 1 :]]
            assert not verify_consistency(old_size, size, old_root, new_root, shorter)


@settings(max_examples=40, deadline=None)
@given(size=sizes, salt=salts, data=st.data())
def test_a_restored_frontier_continues_identically(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    hashes = _leaves(size, salt)
    saved_at = data.draw(st.integers(min_value=0, max_value=size), label="saved_at")
    original, _ = _grow(hashes[:saved_at])
    restored = Frontier(original.size, original.hashes)
    assert restored.size == saved_at
    assert restored.root() == original.root()
    for leaf in hashes[saved_at:]:
        assert restored.append(leaf) == original.append(leaf)
        assert restored.root() == original.root()
    assert restored.hashes == original.hashes
    assert restored.root() == root(hashes)


# --- Errors -------------------------------------------------------------------------------------


def test_hashes_is_a_copy() -> None:
    frontier, _ = _grow(_leaves(3))
    frontier.hashes.clear()
    assert len(frontier.hashes) == 2


@pytest.mark.parametrize(
    ("size", "hashes"),
    [
        (-1, []),
        (1, []),
        (3, [SOME_HASH]),
        (2, [SOME_HASH, SOME_HASH]),
        (0, [SOME_HASH]),
        (1, [SOME_HASH[:-1]]),
    ],
)
def test_an_inconsistent_saved_state_is_refused(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(ValueError, match=r"subtree|leaves|bytes"):
        Frontier(size, hashes)


def test_only_leaf_hashes_are_appended() -> None:
    frontier = Frontier()
    with pytest.raises(ValueError, match="32 bytes"):
        frontier.append(b"raw event data, not its hash")
    assert frontier.size == 0


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (-1, 5), (5, 5), (0, -1)])
def test_impossible_inclusion_arguments(index: int, size: int) -> None:
    with pytest.raises(ProofRangeError):
        inclusion_ranges(index, size)
    with pytest.raises(ProofRangeError):
        verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)


@pytest.mark.parametrize(("old_size", "new_size"), [(0, 0), (0, 5), (6, 5), (-1, 3), (1, -1)])
def test_impossible_consistency_arguments(old_size: int, new_size: int) -> None:
    with pytest.raises(ProofRangeError):
        consistency_ranges(old_size, new_size)
    with pytest.raises(ProofRangeError):
        verify_consistency(old_size, new_size, SOME_HASH, SOME_HASH, [])


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (4, 3), (1, 3), (2, 5), (1, 9), (4, 12)])
def test_ranges_that_are_not_subtrees_are_refused(start: int, end: int) -> None:
    with pytest.raises(ProofRangeError):
        range_nodes(start, end)
    with pytest.raises(ProofRangeError):
        range_hash(start, end, _node({}))


def test_proof_range_errors_are_value_errors() -> None:
    assert issubclass(ProofRangeError, ValueError)


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    assert verify_consistency(3, 3, SOME_HASH, SOME_HASH, [])
    assert not verify_consistency(3, 3, SOME_HASH, EMPTY_ROOT, [])
    assert not verify_consistency(3, 3, SOME_HASH, SOME_HASH, [SOME_HASH])
    assert not verify_consistency(3, 3, b"short", b"short", [])


def test_wrong_length_evidence_is_false_not_an_error() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, leaf, [], b"")
    assert not verify_inclusion(0, 1, b"", [], leaf)
    assert not verify_inclusion(0, 1, b"", [], b"")
    assert not verify_inclusion(0, 2, leaf, [b"x" * 31], leaf)
    assert not verify_consistency(1, 2, leaf, leaf, [b"x" * 33])
