"""The allocation of one slot's children to the activities on offer: a min-cost flow.

Pure data in, pure data out (no database), so the solver can be tested against an independent
optimum and benchmarked on its own; `services.menu_allocate` feeds it and writes the result.

The network: each child with ranked choices supplies one unit; an arc from the child to each
activity it ranked (and its grade may take) costs what that rank is worth, an arc straight to
the sink costs more than any rank (the child stays unplaced, for a study hall); each activity
drains into the sink up to its seats (its capacity, never above the school's cap).

The costs are integers built in three layers, each too small to change the one above it:
1. priority (R4): placing a priority child gains a bonus larger than any other cost, so no
   priority child is left out while a child without priority holds a seat it ranked;
2. satisfaction: rank 1 costs 0, rank 2 costs 1·M, rank 3 costs 2·M, unplaced K·M; the optimum
   maximises the total satisfaction of the slot;
3. ties: among equally good solutions, worse ranks cost a little more for the children served
   first in the tie order — who fared worse in earlier weeks, then a lottery drawn from the
   run's seed — so the result is reproducible from the seed.
"""

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow


@dataclass(frozen=True)
class Child:
    id: int
    grade: int
    ranked: tuple[int, ...]  # offer ids, best first
    priority: bool = False
    # Higher = fared worse in earlier weeks (served first among ties).
    hardship: float = 0.0


@dataclass(frozen=True)
class Offer:
    id: int
    seats: int  # capacity already limited by the school's cap
    grades: frozenset[int]


@dataclass
class Result:
    placed: dict[int, tuple[int, int]] = field(default_factory=dict)  # child → (offer, rank 1..)
    unplaced: list[int] = field(default_factory=list)  # ranked, but no seat among the ranked
    order: list[int] = field(default_factory=list)  # the tie order (hardship, then lottery)
    cost: int = 0  # the optimum's total satisfaction cost: Σ (rank − 1), unplaced = K
    solve_seconds: float = 0.0

    def rank_counts(self, choices: int) -> list[int]:
        counts = [0] * choices
        for _offer, rank in self.placed.values():
            counts[rank - 1] += 1
        return counts


class SolverError(RuntimeError):
    pass


def tie_order(children: Sequence[Child], seed: str) -> list[Child]:
    """Hardship first, then a lottery drawn from `seed` over the children sorted by id."""
    rng = random.Random(seed)
    lottery = {c.id: rng.random() for c in sorted(children, key=lambda c: c.id)}
    return sorted(children, key=lambda c: (-c.hardship, lottery[c.id]))


def usable_ranks(child: Child, offers: dict[int, Offer], choices: int) -> list[tuple[int, int]]:
    """(rank, offer) pairs the solver may use: known offers the child's grade may take, the
    first `choices` ranks, each offer once."""
    seen, usable = set(), []
    for rank, offer_id in enumerate(child.ranked[:choices], start=1):
        offer = offers.get(offer_id)
        if offer is None or offer_id in seen or child.grade not in offer.grades:
            continue
        seen.add(offer_id)
        usable.append((rank, offer_id))
    return usable


def solve(children: Iterable[Child], offers: Iterable[Offer], *, seed: str,
          choices: int = 3) -> Result:
    started = time.perf_counter()
    offers = {o.id: o for o in offers}
    ordered = tie_order([c for c in children if c.ranked], seed)
    result = Result(order=[c.id for c in ordered])
    n = len(ordered)
    if n == 0:
        return result
    k = choices
    m = k * n * n + 1  # one satisfaction step outweighs every tie-break together
    bonus = (k + 2) * m  # one priority placement outweighs every satisfaction step

    # Nodes: children 0..n-1, offers n..n+len-1, sink last.
    offer_ids = list(offers)
    offer_node = {oid: n + i for i, oid in enumerate(offer_ids)}
    sink = n + len(offer_ids)
    tails, heads, caps, costs = [], [], [], []
    choice_arcs: list[tuple[int, int, int]] = []  # (child index, offer id, rank) per arc
    choice_positions: list[int] = []  # where each of those arcs is in the arrays
    for i, child in enumerate(ordered):
        weight = n - i  # the first in the tie order weighs most
        for rank, offer_id in usable_ranks(child, offers, k):
            tails.append(i)
            heads.append(offer_node[offer_id])
            caps.append(1)
            costs.append((rank - 1) * m + (rank - 1) * weight - (bonus if child.priority else 0))
            choice_arcs.append((i, offer_id, rank))
            choice_positions.append(len(tails) - 1)
        tails.append(i)
        heads.append(sink)
        caps.append(1)
        costs.append(k * m + k * weight)
    for offer_id in offer_ids:
        tails.append(offer_node[offer_id])
        heads.append(sink)
        caps.append(max(offers[offer_id].seats, 0))
        costs.append(0)

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
        np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    flows = (flow.flows(arcs[np.asarray(choice_positions, dtype=np.int64)])
             if choice_arcs else np.zeros(0))
    for (i, offer_id, rank), used in zip(choice_arcs, flows, strict=True):
        if used:
            result.placed[ordered[i].id] = (offer_id, rank)
    result.unplaced = [c.id for c in ordered if c.id not in result.placed]
    result.cost = (sum(rank - 1 for _o, rank in result.placed.values())
                   + k * len(result.unplaced))
    result.solve_seconds = time.perf_counter() - started
    return result
