"""Recognising the parts of a U-Net in the neutral graph, from the shapes.

* A *level* is a resolution: the image input is level 0; a node whose output
  is half its input's size (a pooling, a strided convolution, anything) goes
  one level down, one twice as large (a transposed convolution of any kernel,
  ``UpSampling2D``, a resize) one level up. Valid convolutions, which lose a
  few pixels, stay on their level. Only what the image input feeds is placed
  (a conditioning input is not an image).
* The *encoder* is everything the deepest level depends on; the *decoder* the
  rest.
* A *skip connection* is a concatenation at some level joining an up-sampled
  map (a chain back to an up-sampling, through convolutions, normalisation,
  activations) with a map copied from the encoder at that level (or the next,
  when the copy is taken after the pooling and enlarged). The copy's way to
  the concatenation may pass crops, pads, resizes, or a gate: layers computed
  from both paths that multiply the copy (Attention U-Net).
* A strided conv that starts a level whose block otherwise has a single conv
  (a residual block's first conv) is that level's first conv, and its level
  is down-sampled by it; other strided convs (a pure down-sampling, a block's
  strided 1x1 shortcut) are the down-sampling.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from unet_explain.core import names
from unet_explain.model.audit.graph import Graph, Node, pair
from unet_explain.model.audit.report import AuditError

CONVS = {"conv", "conv_transpose"}
PASS = {"norm", "activation", "dropout", "crop", "pad", "reshape"}
"""Kinds that neither compute features across pixels nor change the level."""


def kernel(node: Node) -> int:
    """The kernel size of a convolution (its first side; 1 when it has none)."""
    return pair(node.attr("kernel"))[0]


def stride(node: Node) -> int:
    """The stride of a conv or pooling (1 when it has none)."""
    return pair(node.attr("strides"))[0]


def main_parents(node: Node) -> list[Node]:
    """The map inputs of ``node``: spatial ones, not a 1x1 map broadcast over a larger one (a conditioning)."""
    spatial = [p for p in node.parents if p.spatial is not None]
    if node.spatial is not None and node.spatial != (1, 1):
        spatial = [p for p in spatial if p.spatial != (1, 1)] or spatial
    return spatial


def _ratio(node: Node, parent: Node | None) -> float:
    if parent is None or node.spatial is None or parent.spatial is None or not parent.spatial[0]:
        return 1.0
    return node.spatial[0] / parent.spatial[0]


def scale(node: Node, parent: Node | None = None) -> int:
    """Levels ``node`` moves the map: +1 per halving (down), -1 per doubling (up), 0 otherwise.

    Known strides and factors are read from the attributes, so a valid
    convolution on a tiny map (6 -> 4 pixels) is not taken for a down-sampling;
    anything else is judged by its output size.
    """
    if node.kind in ("conv", "pool"):
        s = stride(node)
        return round(math.log2(s)) if s > 1 else 0
    if node.kind == "conv_transpose":
        s = stride(node)
        return -round(math.log2(s)) if s > 1 else 0
    if node.kind == "upsample":
        f = pair(node.attr("factor"), 2)[0]
        return -round(math.log2(f)) if f > 1 else 0
    if node.kind in ("crop", "pad") or node.spatial is None or node.spatial == (1, 1):
        return 0  # a 1x1 map is a global summary (squeeze-and-excitation, a global pooling), not a level
    if parent is None:
        spatial = main_parents(node)
        parent = spatial[0] if spatial else None
    ratio = _ratio(node, parent)
    if not ratio:
        return 0
    steps = math.log2(ratio)
    # A resize to a size that is no power of two away (20 -> 8) only matches sizes: it stays on its level.
    return -round(steps) if abs(steps) >= 0.6 and abs(steps - round(steps)) <= 0.2 else 0


def is_up(node: Node) -> bool:
    """Whether ``node`` doubles the map (or more)."""
    return scale(node) < 0


def activation_of(node: Node) -> str | None:
    """The activation ``node`` applies, if any."""
    return node.attr("activation") if node.kind in ("activation", "conv", "conv_transpose", "dense") else None


@dataclass
class Skip:
    """A skip connection, with the nodes that make it."""

    concat: Node
    level: int
    """Resolution level of the concatenation (0 = full resolution)."""
    up: Node
    """The up-sampling node."""
    up_between: list[Node]
    """Nodes between the up-sampling and the concatenation."""
    up_input: Node
    """The concatenation's input from the up-sampling."""
    source: Node
    """The copied map (in the encoder)."""
    matched: list[Node]
    """Nodes on the copy's way from the source to the concatenation (crops, pads, resizes, a gate's multiply)."""
    copy_first: bool
    copy_channels: int
    """Channels the copy brings (all copies together)."""
    extra_copies: int = 0
    """Further copies joined by the same concatenation."""
    side: list[Node] = field(default_factory=list)
    """Nodes that feed the copy but not the up-sampled map (an attention gate); empty in the paper."""
    copy_widths: list[int] = field(default_factory=list)
    """Channels of each copy where it joins the concatenation (after any convs on its way)."""

    def up_target(self, level_width: int) -> int:
        """The width the paper's up-convolution would give at this merge: the copy's there (else the level's).

        The paper's up-sampled map is as wide as the copy it joins, and as the
        level. Widths are read at the merge: an up-sampled map as wide as the copy
        there (after a path of convs on the copy, say) is the paper's choice; one
        as wide as the level is too, unless the up-sampling only kept its
        channels where the copy is narrower (the paper's halving left out).
        """
        up = self.up_input.channels
        if not self.copy_widths:
            return level_width
        if up in self.copy_widths:
            return up
        up_in = next((p.channels for p in main_parents(self.up)), up)
        return level_width if up == level_width and up_in != up else self.copy_widths[0]


@dataclass
class Parts:
    """Everything recognised in one graph."""

    graph: Graph
    levels: dict[int, int]
    """Level of each image node, by ``id``."""
    depth: int
    skips: list[Skip]
    """Deepest first."""
    downs: dict[int, list[Node]]
    """Down-sampling nodes by the level they leave (block-first strided convs included)."""
    block_first: set[int]
    """ids of strided convs that are also their level's first conv."""
    stage_of: dict[int, str]
    """Stage (``enc1`` .. ``bottleneck`` .. ``dec1``) of each image node, by id."""
    convs: dict[str, list[Node]]
    """The main convolutions of each stage, at most two (not up-sampling, not the head)."""
    extra_convs: dict[str, list[Node]]
    """Convolutions beyond the two per stage (a third conv, a residual shortcut)."""
    head: Node
    """The head convolution."""
    head_activation: str | None
    after_head: list[Node] = field(default_factory=list)
    """Nodes between the head convolution and the output."""
    residual_adds: list[Node] = field(default_factory=list)
    """Element-wise sums or products of two maps of the network that are not inside a gate (residual connections)."""
    conditioning: list[Node] = field(default_factory=list)
    """Nodes fed by another input than the image (a conditioning), with their joins into the network."""
    decoder_ups: dict[int, list[Node]] = field(default_factory=dict)
    """The up-sampling branch into each decoder level (the up-sampling and the convs up to the merge)."""
    enc_widths: list[int] = field(default_factory=list)
    """Channels of each encoder level, then the bottleneck."""
    dec_widths: dict[int, int] = field(default_factory=dict)
    """Channels of each decoder level that has convolutions."""


def _stage(level: int, depth: int, region: str) -> str:
    if level >= depth:
        return names.BOTTLENECK
    return names.encoder(level + 1) if region == "encoder" else names.decoder(level + 1)


def _trace_up(start: Node, levels: dict[int, int]) -> tuple[Node, list[Node]] | None:
    """Back from a merge input through single-input nodes to the up-sampling that made the map."""
    between: list[Node] = []
    current = start
    for _ in range(64):
        if scale(current) < 0:
            return current, list(reversed(between))
        parents = main_parents(current)
        if len(parents) != 1 or scale(current) > 0 or current.kind == "input":
            return None
        between.append(current)
        current = parents[0]
    return None


def _find_copy(
    copy_in: Node, level: int, encoder: set[int], decoder_side: set[int], levels: dict[int, int]
) -> tuple[Node, list[Node]] | None:
    """The encoder map a merge input copies: the nearest encoder node at the merge's level (or the next)."""
    came: dict[int, Node | None] = {id(copy_in): None}
    frontier = deque([copy_in])
    found: list[Node] = []
    while frontier and not found:
        layer = list(frontier)
        frontier.clear()
        for node in layer:
            if id(node) in encoder and levels.get(id(node)) in (level, level + 1):
                found.append(node)
        if found:
            break
        for node in layer:
            for parent in main_parents(node):
                if id(parent) in came or id(parent) in decoder_side:
                    continue
                came[id(parent)] = node
                frontier.append(parent)
    if not found:
        return None
    source = min(found, key=lambda n: levels[id(n)] - level)
    # An identity (a cast, a conversion) is not what is copied: its input is.
    while source.kind in ("other", "reshape") and not source.params and len(main_parents(source)) == 1:
        parent = main_parents(source)[0]
        if parent.shape != source.shape or id(parent) not in encoder:
            break
        came[id(parent)] = source
        source = parent
    path: list[Node] = []
    step = came[id(source)]
    while step is not None:
        path.append(step)
        step = came[id(step)]
    return source, path


def recognise(graph: Graph) -> Parts:
    """Find the levels, skips, stages, convolutions and head of ``graph``; refuse what is not a U-Net."""
    nodes = graph.nodes
    index = {id(n): i for i, n in enumerate(nodes)}
    ancestors: dict[int, int] = {}
    for i, node in enumerate(nodes):
        mask = 1 << i
        for parent in node.parents:
            mask |= ancestors[id(parent)]
        ancestors[id(node)] = mask
    image_bit = 1 << index[id(graph.input)]
    on_image = [n for n in nodes if ancestors[id(n)] & image_bit and n.spatial is not None]
    levels: dict[int, int] = {}
    for node in nodes:
        if not ancestors[id(node)] & image_bit:
            continue
        parents = [p for p in main_parents(node) if id(p) in levels]
        if not parents:
            # A vector or a 1x1 summary of a map (a squeeze-and-excitation) stays on the level of what it summarises.
            placed = [levels[id(p)] for p in node.parents if id(p) in levels]
            levels[id(node)] = max(placed, default=0)
            continue
        # A join sits on the level of the input as large as its output, else of its longest history.
        same = [p for p in parents if p.spatial == node.spatial] or parents
        base = max(same, key=lambda p: bin(ancestors[id(p)]).count("1"))
        levels[id(node)] = levels[id(base)] + scale(node, base)
    depth = max((levels[id(n)] for n in on_image), default=0)
    # The encoder is what the way up from the deepest level depends on (a copy resized there is not).
    deepest = [p for n in on_image if scale(n) < 0 for p in main_parents(n) if levels.get(id(p)) == depth]
    deepest = deepest or [n for n in on_image if levels[id(n)] == depth]
    enc_mask = 0
    for node in deepest:
        enc_mask |= ancestors[id(node)]
    encoder = {id(n) for n in on_image if enc_mask >> index[id(n)] & 1}

    skips: list[Skip] = []
    concats = [n for n in on_image if n.kind == "concat" and len(main_parents(n)) >= 2]
    other_concats = []
    for concat in concats:
        skip = _skip_of(concat, nodes, levels, ancestors, encoder)
        (skips.append(skip) if skip else other_concats.append(concat))
    side_ids = {id(n) for s in skips for n in s.side} | {id(n) for s in skips for n in s.matched}
    downs_all = [n for n in on_image if scale(n) > 0 and id(n) not in side_ids]
    ups_all = [n for n in on_image if scale(n) < 0 and id(n) not in side_ids]
    # Sums and products of two maps of the network (not a map and another input, such as a weight map).
    joins = [
        n
        for n in on_image
        if n.kind in ("add", "multiply") and sum(bool(ancestors[id(p)] & image_bit) for p in main_parents(n)) >= 2
    ]
    if not skips or depth < 1:
        _refuse(graph.name, downs_all, ups_all, joins, concats, depth)

    stage_of = {
        id(n): _stage(max(levels[id(n)], 0), depth, "encoder" if id(n) in encoder else "decoder") for n in on_image
    }
    after_head: list[Node] = []
    current: Node | None = graph.output
    while current is not None and current.kind not in CONVS:
        after_head.append(current)
        parents = main_parents(current) or current.parents
        # Past a join with another input (a weight map multiplied in), follow the map the image made.
        parents = [p for p in parents if ancestors[id(p)] & image_bit] or parents
        current = parents[0] if len(parents) == 1 else None
    if current is None:
        raise AuditError(f"{graph.name!r}: no convolution produces its output, so there is no head to recognise")
    head = current
    head_activation = activation_of(head)
    for node in after_head:
        head_activation = activation_of(node) or head_activation

    up_branch = {id(n) for s in skips for n in [s.up, *s.up_between]}
    by_stage: dict[str, list[Node]] = {}
    summaries: dict[str, list[Node]] = {}
    for node in on_image:
        if node.kind == "conv" and node is not head and id(node) not in up_branch | side_ids and scale(node) <= 0:
            # A conv on a 1x1 summary (squeeze-and-excitation) is an extra layer, never one of the level's two.
            if node.spatial == (1, 1) != graph.input.spatial:
                summaries.setdefault(stage_of[id(node)], []).append(node)
            else:
                by_stage.setdefault(stage_of[id(node)], []).append(node)
    downs: dict[int, list[Node]] = {}
    block_first: set[int] = set()
    for node in downs_all:
        parent = main_parents(node)[0]
        downs.setdefault(levels[id(parent)], []).append(node)
    for ops in downs.values():
        stage = stage_of[id(ops[0])]
        own = [c for c in by_stage.get(stage, []) if pair(c.attr("kernel"))[0] > 1]
        strided = [n for n in ops if n.kind == "conv" and kernel(n) > 1 and stage_of[id(n)] == stage]
        if len(own) < 2 and strided:
            first = max(strided, key=lambda n: n.params)
            block_first.add(id(first))
            by_stage.setdefault(stage, []).insert(0, first)
    convs: dict[str, list[Node]] = {}
    extra: dict[str, list[Node]] = {}
    for stage, ops in by_stage.items():
        ranked = sorted(ops, key=lambda n: (id(n) not in block_first, kernel(n) == 1, index[id(n)]))
        main = sorted(ranked[:2], key=lambda n: index[id(n)])
        convs[stage] = main
        rest = [n for n in ops if n not in main]
        if rest:
            extra[stage] = rest
    for stage, ops in summaries.items():
        extra.setdefault(stage, []).extend(ops)

    gate_ids = {id(n) for s in skips for n in s.side}
    residual = [n for n in joins if id(n) not in gate_ids and id(n) not in side_ids]
    conditioning = [n for n in nodes if not ancestors[id(n)] & image_bit and n.params]
    decoder_ups: dict[int, list[Node]] = {s.level: [s.up, *s.up_between] for s in skips}
    for node in ups_all:
        lv = levels[id(node)]
        if id(node) not in up_branch | encoder and lv not in decoder_ups and node not in [head, *after_head]:
            decoder_ups[lv] = [node]
    # A level's width is that of the map it hands on: fed to the down-sampling (the paper's last conv of the
    # level; a residual block's sum), and for the bottleneck, fed to the first up-sampling.
    enc_widths = []
    for level in range(depth):
        fed = main_parents(downs[level][0]) if downs.get(level) else []
        own = convs.get(names.encoder(level + 1)) or []
        enc_widths.append(fed[0].channels if fed else own[-1].channels if own else 0)
    bottom = convs.get(names.BOTTLENECK)
    deepest_up = next((s for s in skips if s.level == depth - 1), None)
    up_in = main_parents(deepest_up.up) if deepest_up else []
    enc_widths.append(up_in[0].channels if up_in else bottom[-1].channels if bottom else 0)
    dec_widths = {
        lv: convs[names.decoder(lv + 1)][-1].channels for lv in range(depth) if convs.get(names.decoder(lv + 1))
    }
    skips.sort(key=lambda s: -s.level)
    return Parts(
        graph=graph,
        levels=levels,
        depth=depth,
        skips=skips,
        downs=downs,
        block_first=block_first,
        stage_of=stage_of,
        convs=convs,
        extra_convs=extra,
        head=head,
        head_activation=head_activation,
        after_head=list(reversed(after_head)),
        residual_adds=residual,
        conditioning=conditioning,
        decoder_ups=decoder_ups,
        enc_widths=enc_widths,
        dec_widths=dec_widths,
    )


def _skip_of(
    concat: Node, nodes: list[Node], levels: dict[int, int], ancestors: dict[int, int], encoder: set[int]
) -> Skip | None:
    """The skip connection a concatenation makes, or None if it joins maps of one path."""
    parents = main_parents(concat)
    ranked = sorted(parents, key=lambda p: bin(ancestors[id(p)]).count("1"), reverse=True)
    level = levels[id(concat)]
    for up_input in ranked:
        found = _trace_up(up_input, levels)
        if found is None:
            continue
        up, between = found
        if id(up) in encoder and id(up_input) in encoder:
            continue
        copies: list[Node] = []
        sources: list[Node] = []
        matched_all: list[Node] = []
        side: list[Node] = []
        for copy_in in parents:
            if copy_in is up_input:
                continue
            # The copy is never found through the up-sampling itself: that would be the decoder's own path.
            found_copy = _find_copy(copy_in, level, encoder, {id(up)}, levels)
            if found_copy is None:
                continue
            source, path = found_copy
            copies.append(copy_in)
            sources.append(source)
            matched_all.extend(path)
            feeds_up = ancestors[id(up_input)]
            chain = {id(n) for n in path}
            side.extend(
                n
                for i, n in enumerate(nodes)
                if ancestors[id(copy_in)] >> i & 1 and not feeds_up >> i & 1 and id(n) not in chain
            )
        if not copies:
            continue
        # Learned layers and products on the copy's way belong to a gate, not to the size matching.
        gate = [n for n in matched_all if n.params or (n.kind == "multiply" and len(main_parents(n)) >= 2)]
        matched = [n for n in matched_all if n not in gate]
        return Skip(
            concat,
            level,
            up,
            between,
            up_input,
            sources[0],
            list(reversed(matched)),
            copy_first=parents.index(copies[0]) < parents.index(up_input),
            copy_channels=sum(c.channels for c in copies),
            extra_copies=len(copies) - 1,
            copy_widths=[c.channels for c in copies],
            side=side + [n for n in gate if n not in side],
        )
    return None


def _refuse(name: str, downs: list[Node], ups: list[Node], joins: list[Node], concats: list[Node], depth: int) -> None:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}" if n else f"no {word}"

    found = [count(len(downs), "down-sampling"), count(len(ups), "up-sampling")]
    adds = sum(n.kind == "add" for n in joins)
    if adds:
        found.append(count(adds, "element-wise addition"))
    if len(joins) > adds:
        found.append(count(len(joins) - adds, "element-wise product"))
    found.append(f"{count(len(concats), 'concatenation')} of maps of one path" if concats else "no concatenation")
    if depth < 1 and not downs:
        raise AuditError(
            f"{name!r} is not a U-Net: its maps never get smaller than the input, so there is no contracting "
            f"path (it has {', '.join(found)})"
        )
    raise AuditError(
        f"{name!r} is not a U-Net: no concatenation joins an up-sampled decoder map with a map copied from "
        f"the encoder, and those skip connections are what make a U-Net (it has {', '.join(found)})"
    )


def follow(node: Node) -> list[Node]:
    """The chain of single-reader, single-input nodes after ``node`` that only normalise, activate or drop."""
    chain: list[Node] = []
    current = node
    while len(current.children) == 1:
        child = current.children[0]
        if len(child.parents) != 1 or child.kind not in ("norm", "activation", "dropout"):
            break
        chain.append(child)
        current = child
    return chain


def activation_after(node: Node) -> str | None:
    """The activation a conv's output meets before the next conv (through norms, sums, merges), if any."""
    if activation_of(node):
        return activation_of(node)
    frontier, seen = list(node.children), set[int]()
    while frontier:
        current = frontier.pop(0)
        if id(current) in seen or len(seen) > 64:
            continue
        seen.add(id(current))
        if current.kind == "activation":
            return activation_of(current)
        if current.kind in CONVS or current.kind == "dense":
            continue
        frontier.extend(current.children)
    return None


def taken(parts: Parts, skip: Skip) -> str:
    """Where a skip's copy is taken: before the down-sampling (the paper), after it, or elsewhere."""
    level = parts.levels[id(skip.source)]
    if any(n.kind == "multiply" for n in skip.side):
        return "gated (multiplied by an attention map)"
    if level > skip.level:
        return "after down-sampling"
    if skip.source.kind == "input":
        return "the input image"
    if scale(skip.source) > 0:
        return "the pooled map, before the level's convs"
    frontier, seen = [skip.source], set[int]()
    while frontier:
        current = frontier.pop()
        for child in current.children:
            if id(child) in seen:
                continue
            seen.add(id(child))
            if scale(child) > 0:
                return "before down-sampling"
            if child.kind in PASS or (child.kind in ("add",) and not child.params):
                frontier.append(child)
    return "elsewhere in the level"
