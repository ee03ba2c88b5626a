"""The one synonym and lemma table: word forms and synonyms -> canonical words, multi-word phrases -> a word.

``canonical("people") == "person"``, ``canonical("bikes") == "bicycle"``, ``canonical("ran") == "run"``. A
regularly inflected word ("walks", "stopped", "boxes", "flies") needs no entry: ``canonical`` strips its
ending toward a word it knows, its own canonical words or a vocabulary the caller passes (a detector's
classes, a verifier's labels). ``join_phrases`` then folds phrases of canonical words into one word
(``["stand", "still"]`` -> ``["still"]``).

The verifier (``vidagent.tasks.verify.normalize``), the answer parser (``vidagent.answers``) and the fused
grounding query parser (``vidagent.tools.fused_grounding``) all read words through this module, so an answer
or a query means the same everywhere. It is the bottom layer: it imports nothing from vidagent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

# Canonical word -> the irregular forms and synonyms that mean it.
_FORMS: dict[str, tuple[str, ...]] = {
    # things
    "person": ("people", "persons", "man", "men", "woman", "women", "someone", "somebody", "human", "humans",
               "pedestrian", "kid", "child", "children", "boy", "girl", "guy", "adult"),
    "car": ("automobile", "automobiles", "vehicle", "vehicles"),
    "bicycle": ("bike", "bikes"),
    "dog": ("puppy", "puppies", "pup", "doggy", "doggie"),
    "box": ("crate", "carton"),
    "ball": (),
    "bird": (),
    # actions
    "walk": ("stroll",),
    "run": ("ran", "jog", "sprint"),
    "jump": ("hop", "leap", "leapt"),
    "fall": ("fell", "fallen", "tumble"),
    "lie": ("lying", "lay", "lies", "lain"),
    "stand": ("stood",),
    "wave": (),
    "drive": ("drove", "driven"),
    "ride": ("rode", "ridden"),
    "stop": ("halt", "brake"),
    "still": ("stationary", "parked", "idle", "motionless", "static"),
    "roll": (),
    "bounce": (),
    "slide": ("slid",),
    "fly": ("flew", "flown"),
    # events
    "enter": ("appear", "arrive"),
    "leave": ("left", "exit", "disappear", "vanish", "depart"),
    "collide": ("hit", "hits", "crash", "bump"),
    # other verbs that phrases use
    "go": ("went", "gone"),
    "keep": ("kept",),
    # answers
    "yes": ("yeah", "yep", "yup", "true"),
    "no": ("nope", "nah", "false"),
    "gray": ("grey",),
}
SYNONYMS: dict[str, str] = {form: word for word, forms in _FORMS.items() for form in forms}

# Phrases, written in canonical words (after ``canonical``, articles dropped) -> the word they mean.
PHRASES: dict[tuple[str, ...], str] = {
    ("lie", "on", "ground"): "lie", ("lie", "down"): "lie", ("fall", "down"): "fall", ("jump", "up"): "jump",
    ("stand", "still"): "still", ("stay", "still"): "still", ("keep", "still"): "still",
    ("not", "move"): "still",
    ("roll", "along"): "ride",  # the world's caption for a bicycle riding
    ("show", "up"): "enter", ("go", "away"): "leave",
    ("collide", "with"): "collide", ("collide", "into"): "collide", ("run", "into"): "collide",  # "crashes into"
}
PHRASE_WORDS = frozenset(w for phrase in PHRASES for w in phrase)
# Words ``canonical`` strips inflections toward, with no vocabulary given.
VOCABULARY = frozenset(_FORMS) | PHRASE_WORDS
_LONGEST_PHRASE = max(len(p) for p in PHRASES)


def canonical(word: str, known: Collection[str] | None = None) -> str:
    """The canonical form of one lower-case word, else the word itself.

    A word in ``known`` stays as it is (the caller's vocabulary wins: a grounding query keeps "someone").
    Otherwise a listed form maps to its word ("people" -> "person"), and a regular inflection is stripped
    toward a word of ``known``, of the table, or of ``VOCABULARY`` ("walks" -> "walk", "hitting" ->
    "collide"). Stripping only ever lands on such a word, so "bus" stays "bus".
    """
    for candidate in (word, *_stems(word)):  # the word itself first, then its stems
        if known is not None and candidate in known:
            return candidate
        if candidate in SYNONYMS:
            return SYNONYMS[candidate]
        if candidate in VOCABULARY:
            return candidate
    return word


def join_phrases(words: Sequence[str]) -> list[str]:
    """Canonical words with each phrase of ``PHRASES`` folded into its word, longest phrase first:
    ``["person", "lie", "on", "ground"]`` -> ``["person", "lie"]``."""
    out: list[str] = []
    i = 0
    while i < len(words):
        size = next((n for n in range(_LONGEST_PHRASE, 1, -1) if tuple(words[i : i + n]) in PHRASES), 1)
        out.append(PHRASES[tuple(words[i : i + size])] if size > 1 else words[i])
        i += size
    return out


def _stems(word: str) -> list[str]:
    """Candidate base forms of a regularly inflected word, in the order they are tried."""
    candidates = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")  # flies -> fly
    if word.endswith("es"):
        candidates.append(word[:-2])  # boxes -> box
    if word.endswith("s"):
        candidates.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            candidates += [stem, stem + "e"]  # walked -> walk, waving -> wave
            if len(stem) > 2 and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])  # running -> run, stopped -> stop
            if suffix == "ed" and stem.endswith("i"):
                candidates.append(stem[:-1] + "y")  # carried -> carry
    return candidates
