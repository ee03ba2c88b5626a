"""The one synonym and lemma table (``vidagent.words``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from vidagent.words import PHRASES, SYNONYMS, VOCABULARY, canonical, join_phrases


@pytest.mark.parametrize(("word", "word_meant"), [
    # things
    ("people", "person"), ("persons", "person"), ("men", "person"), ("women", "person"), ("man", "person"),
    ("woman", "person"), ("someone", "person"), ("children", "person"), ("bike", "bicycle"),
    ("bikes", "bicycle"), ("automobile", "car"), ("automobiles", "car"), ("vehicle", "car"), ("cars", "car"),
    ("puppy", "dog"), ("puppies", "dog"), ("dogs", "dog"), ("boxes", "box"),
    # verbs: irregular forms, regular inflections, synonyms
    ("ran", "run"), ("running", "run"), ("runs", "run"), ("jogging", "run"), ("lying", "lie"), ("lay", "lie"),
    ("lies", "lie"), ("fell", "fall"), ("stood", "stand"), ("rode", "ride"), ("riding", "ride"),
    ("drove", "drive"), ("flew", "fly"), ("flies", "fly"), ("slid", "slide"), ("waving", "wave"),
    ("bouncing", "bounce"), ("stopped", "stop"), ("halts", "stop"), ("parked", "still"), ("left", "leave"),
    ("leaving", "leave"), ("exits", "leave"), ("appears", "enter"), ("hit", "collide"), ("hits", "collide"),
    ("hitting", "collide"), ("crashed", "collide"), ("collides", "collide"), ("went", "go"),
    # answers and colors
    ("yeah", "yes"), ("yep", "yes"), ("nope", "no"), ("grey", "gray"),
    # unknown words and words that only look inflected stay
    ("xyzzy", "xyzzy"), ("bus", "bus"), ("red", "red"), ("is", "is"), ("thing", "thing"),
])
def test_canonical(word, word_meant):
    assert canonical(word) == word_meant


def test_known_words_stay_and_inflections_strip_toward_them():
    known = {"someone", "cat", "carry"}
    assert canonical("someone", known) == "someone"  # a grounding query's "any object"
    assert canonical("cats") == "cats" and canonical("cats", known) == "cat"
    assert canonical("carried", known) == "carry"
    assert canonical("people", known) == "person"  # the table still applies to words not known


def test_the_table_is_closed():
    # canonical words map to themselves, so reading a word twice changes nothing
    assert all(canonical(word) == word for word in VOCABULARY)
    assert all(canonical(form) == canonical(canonical(form)) for form in SYNONYMS)
    # phrases are written in canonical words, so they match after ``canonical``
    assert all(canonical(w) == w for phrase in PHRASES for w in phrase)


def test_join_phrases():
    def read(text):
        return join_phrases([canonical(w) for w in text.split()])

    assert read("person lying on ground") == ["person", "lie"]
    assert read("car stays still") == ["car", "still"] and read("person standing still") == ["person", "still"]
    assert read("ball crashes into box") == ["ball", "collide", "box"]
    assert read("bicycle rolls along") == ["bicycle", "ride"]
    assert read("dog goes away") == ["dog", "leave"] and read("dog shows up") == ["dog", "enter"]
    assert read("is not moving") == ["is", "still"]
    assert read("lie on") == ["lie", "on"]  # an unfinished phrase stays words


def test_words_is_the_bottom_layer():
    tree = ast.parse(Path(__file__).parents[1].joinpath("core", "words.py").read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("vidagent")]
