"""An equivalence answer in words and as a small diagram: what a relation, a basis and a reason
mean to a reader, why a match has the confidence it has, and where each box and arrow goes.

Only presentation: the answer itself (matches, paths, weights) comes from mappings.services as
the API gives it; the weights named here are the ones `mappings.graph` applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext, lazy_gettext

from mappings.graph import Equivalents, Match, Step

# SKOS, read from the source level: B is the counterpart of A; `broadMatch` says B is broader.
RELATION_WORDS = {
    "exactMatch": lazy_gettext("the same level"),
    "closeMatch": lazy_gettext("nearly the same level"),
    "broadMatch": lazy_gettext("broader"),
    "narrowMatch": lazy_gettext("narrower"),
    "relatedMatch": lazy_gettext("related, not the same level"),
}
# What a relation means for the holder, said after it (nothing to add to "the same level").
RELATION_SENTENCES = {
    "closeMatch": lazy_gettext("The two are close, not identical."),
    "broadMatch": lazy_gettext(
        "The counterpart covers the level and more, so the holder sits somewhere within it."
    ),
    "narrowMatch": lazy_gettext(
        "The counterpart covers only part of the level, so the holder may sit above or below it."
    ),
    "relatedMatch": lazy_gettext(
        "A broader step and a narrower one meet on the way, so the two levels overlap only in part."
    ),
}
BASIS_WORDS = {
    "referencing": lazy_gettext(
        "an official EQF referencing (an accepted referencing report, or the EQF Recommendation)"
    ),
    "legislation": lazy_gettext("a country's own legal text"),
    "comparison": lazy_gettext("a joint comparison study (which has no legal effect)"),
    "agreement": lazy_gettext("a bilateral or institutional agreement"),
    "decision": lazy_gettext("the registry's own decision"),
}
REASON_WORDS = {
    "no_counterpart": lazy_gettext(
        "No published link leads from this level to the target framework on this date."
    ),
    "below_eqf_1": lazy_gettext(
        "The level lies below EQF level 1 on purpose, so no other framework's level is linked "
        "to it."
    ),
    "unlevelled": lazy_gettext(
        "The level is left without an EQF level on purpose, so no other framework's level is "
        "linked to it."
    ),
    "not_in_force": lazy_gettext(
        "The level's framework version was not in force on this date, and no later framework "
        "replaces it."
    ),
}


# On the diagram's arrows, where there is room for a word or two.
RELATION_LABELS = {
    "exactMatch": lazy_gettext("same level"),
    "closeMatch": lazy_gettext("nearly same"),
    "broadMatch": lazy_gettext("broader"),
    "narrowMatch": lazy_gettext("narrower"),
    "relatedMatch": lazy_gettext("related"),
}


def relation_words(relation: str) -> str:
    return str(RELATION_WORDS.get(relation, relation))


def reason_words(reason: str | None) -> str:
    return str(REASON_WORDS.get(reason or "no_counterpart", reason))


def confidence_sentence(match: Match) -> str:
    """Why the match has its confidence: what each step rests on, and what lowered it."""
    if not match.path:
        return gettext("%(value)s out of 1: it is the level itself.", value=match.confidence)
    bases = []
    for step in match.path:
        words = str(BASIS_WORDS.get(step.basis, step.basis))
        if words not in bases:
            bases.append(words)
    sentence = gettext(
        "%(value)s out of 1: the path rests on %(bases)s.",
        value=match.confidence,
        bases=gettext(" and ").join(bases),
    )
    lowered = []
    if any(step.relation != "exactMatch" for step in match.path):
        lowered.append(gettext("a step between levels that are not the same size"))
    if any(step.basis in ("legislation", "comparison", "decision") for step in match.path):
        lowered.append(gettext("a basis weaker than an accepted referencing or an agreement"))
    secondary = [step for step in match.path if step.secondary_source]
    if secondary:
        lowered.append(
            gettext(
                "a result read only in a secondary source, not in the cited report (%(steps)s)",
                steps="; ".join(f"{s.source} → {s.target}" for s in secondary),
            )
        )
    if lowered:
        sentence += " " + gettext("It is lowered by %(what)s.", what="; ".join(lowered))
    return sentence


def short_citation(text: str, limit: int = 90) -> str:
    """The citation's first part: up to its first semicolon, at most `limit` characters."""
    first = text.split(";", 1)[0].strip()
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- the path as a diagram: boxes for levels, arrows labelled by relation ------------------

# A row on a wide screen; on a phone the same path stands as a column, so that its text keeps
# its size instead of shrinking with the row (the page shows one or the other by CSS).
BOX_WIDTH, BOX_HEIGHT, GAP, DOWN_GAP, MARGIN = 170, 56, 100, 44, 4


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    ref: str
    title: str


@dataclass(frozen=True)
class Arrow:
    """From (x1, y1) to (x2, y2), its label at (label_x, label_y), anchored `anchor`."""

    x1: int
    y1: int
    x2: int
    y2: int
    label: str
    label_x: int
    label_y: int
    anchor: str


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    description: str


def diagram(
    source: str, path: tuple[Step, ...], titles: dict[str, str], column: bool = False
) -> Diagram:
    """The levels of a path left to right (or top down), each step an arrow labelled with its
    relation."""
    refs = [source, *(step.target for step in path)]
    boxes = tuple(
        Box(
            MARGIN if column else MARGIN + i * (BOX_WIDTH + GAP),
            MARGIN + i * (BOX_HEIGHT + DOWN_GAP) if column else MARGIN,
            ref,
            _clip(titles.get(ref, ""), 24),
        )
        for i, ref in enumerate(refs)
    )
    arrows = []
    for box, step in zip(boxes, path, strict=False):
        label = str(RELATION_LABELS.get(step.relation, step.relation))
        if column:
            x, top = box.x + BOX_WIDTH // 2, box.y + BOX_HEIGHT
            arrows.append(
                Arrow(x, top + 2, x, top + DOWN_GAP - 3, label, x + 10, top + 27, "start")
            )
        else:
            start, y = box.x + BOX_WIDTH, box.y + 36
            arrows.append(
                Arrow(start + 2, y, start + GAP - 3, y, label, start + GAP // 2, y - 10, "middle")
            )
    description = "; ".join(
        gettext(
            "%(source)s to %(target)s: %(relation)s",
            source=step.source,
            target=step.target,
            relation=relation_words(step.relation),
        )
        for step in path
    )
    count = len(boxes)
    if column:
        size = (BOX_WIDTH, count * BOX_HEIGHT + (count - 1) * DOWN_GAP)
    else:
        size = (count * BOX_WIDTH + (count - 1) * GAP, BOX_HEIGHT)
    return Diagram(size[0] + 2 * MARGIN, size[1] + 2 * MARGIN, boxes, tuple(arrows), description)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refs_of(answer: Equivalents) -> set[str]:
    """Every level an answer names: its source and each level on each path."""
    found = {answer.source}
    for match in answer.matches:
        found.add(match.level)
        for step in match.path:
            found.update((step.source, step.target))
    return found
