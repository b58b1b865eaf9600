"""How much of a supporter's letter is in their own words, measured against the campaign's text.

MPs' offices give less weight to identical mass emails, so the letter page shows supporters how
much of their letter is their own, a campaign may ask for a minimum, and staff see the spread.

Two measures, both on words (lower-cased, punctuation dropped, so re-wrapping or re-casing the
campaign's text changes nothing):

- `own_sentences`, what the campaign's minimum counts: the supporter's sentences of at least
  three words that are not near-copies of any sentence of the campaign's letter. A near-copy
  shares at least half its distinct words with a campaign sentence (Jaccard similarity of the
  word sets), so changing a word or two of ours does not make a sentence "own", while a sentence
  reworded in the supporter's own way does. Sentences end at . ! ? or a line break. Word sets
  are cheap to compare, so even a letter at the 10,000-character cap takes milliseconds.
- `own_word_share`, what supporters and staff read as a percentage: the share of the
  supporter's words that are not part of a run of three words (in a row, within a sentence)
  that the campaign's letter also has. A name or a place typed into a gap, or a changed word,
  is the supporter's; moving a paragraph of ours or deleting some leaves the rest ours. We chose
  this over difflib.SequenceMatcher's opcodes, which match only in order, so a letter whose
  paragraphs were merely reordered read as 95% new. Runs of words are a set lookup each: the
  measure is linear in the letter's length, and so short that static/site.js repeats it
  exactly as the supporter types, with no request; the server's figure is the one stored and
  enforced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

# Letters and digits in any script, with apostrophes inside a word ("don't", "Tibet’s") kept.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
MIN_SENTENCE_WORDS = 3
NEAR_COPY = 0.5
RUN = 3


@dataclass(frozen=True)
class PersonalTouch:
    own_sentences: int
    own_word_share: float

    @property
    def percent(self) -> int:
        # Halves round up, as JavaScript's Math.round does in site.js (round() would round to even).
        return math.floor(self.own_word_share * 100 + 0.5)

    def describe(self) -> str:
        """The measure in plain words for the supporter (site.js writes the same sentences)."""
        if self.own_sentences == 0 and self.percent == 0:
            return (
                "Your letter is the campaign's text as it stands. A sentence or two about why "
                "this matters to you makes it count for more."
            )
        sentences = (
            "no sentences of your own yet"
            if self.own_sentences == 0
            else f"{self.own_sentences} sentence{'' if self.own_sentences == 1 else 's'} "
            "of your own"
        )
        return f"About {self.percent}% of this letter is in your own words ({sentences})."


def words(text: str) -> list[str]:
    return [word.replace("’", "'") for word in _WORD.findall(text.lower())]


def sentences(text: str) -> list[list[str]]:
    """Each sentence's words; empty pieces (blank lines, stray punctuation) are dropped."""
    pieces = (words(piece) for piece in _SENTENCE_END.split(text))
    return [piece for piece in pieces if piece]


def measure(letter: str, campaign_text: str) -> PersonalTouch:
    """How much of `letter` is not `campaign_text` (the campaign's letter as filled in for this
    supporter's MP)."""
    return PersonalTouch(
        own_sentences=count_own_sentences(letter, campaign_text),
        own_word_share=own_word_share(letter, campaign_text),
    )


def count_own_sentences(letter: str, campaign_text: str) -> int:
    campaign_sentences = [frozenset(sentence) for sentence in sentences(campaign_text)]
    exact = set(campaign_sentences)
    own = 0
    for sentence in sentences(letter):
        if len(sentence) < MIN_SENTENCE_WORDS:
            continue
        word_set = frozenset(sentence)
        if word_set in exact:
            continue
        if all(_jaccard(word_set, theirs) < NEAR_COPY for theirs in campaign_sentences):
            own += 1
    return own


def _jaccard(ours: frozenset[str], theirs: frozenset[str]) -> float:
    shared = len(ours & theirs)
    return shared / (len(ours) + len(theirs) - shared)


def own_word_share(letter: str, campaign_text: str) -> float:
    """0 for a copy of the campaign's text, 1 for a letter sharing no three words in a row."""
    letter_sentences = sentences(letter)
    total = sum(len(sentence) for sentence in letter_sentences)
    if not total:
        return 0.0
    campaign_runs = {run for sentence in sentences(campaign_text) for run in _runs(sentence)}
    theirs = 0
    for sentence in letter_sentences:
        copied = [False] * len(sentence)
        for start, run in enumerate(_runs(sentence)):
            if run in campaign_runs:
                copied[start : start + RUN] = [True] * RUN
        theirs += sum(copied)
    return 1 - theirs / total


def _runs(sentence: list[str]) -> list[tuple[str, ...]]:
    return [tuple(sentence[i : i + RUN]) for i in range(len(sentence) - RUN + 1)]


class Band(StrEnum):
    """Where a letter falls on the staff figures page, from its two measures."""

    COPIED = "copied"
    FEW_WORDS = "few_words"
    OWN_SENTENCE = "own_sentence"
    MOSTLY_OWN = "mostly_own"


BAND_LABELS = {
    Band.COPIED: "Sent as the campaign wrote it",
    Band.FEW_WORDS: "A few words changed",
    Band.OWN_SENTENCE: "At least one sentence of their own",
    Band.MOSTLY_OWN: "Mostly in their own words",
}
# Below this share, a letter with no sentence of its own counts as sent as written: a name or a
# place typed into a gap is not a changed letter.
COPIED_BELOW = 0.02
MOSTLY_OWN_FROM = 0.5


def band_of(touch: PersonalTouch) -> Band:
    """The same rule as the figures' SQL (services/send_log/figures.py), for one letter."""
    if touch.own_word_share >= MOSTLY_OWN_FROM:
        return Band.MOSTLY_OWN
    if touch.own_sentences > 0:
        return Band.OWN_SENTENCE
    if touch.own_word_share < COPIED_BELOW:
        return Band.COPIED
    return Band.FEW_WORDS


def own_words_line(organisation: str, campaign_title: str, touch: PersonalTouch) -> str:
    """The supporter's honest line at the foot of their letter, when the campaign adds one."""
    helper = f"{organisation}'s campaign “{campaign_title}”" if organisation else campaign_title
    if touch.percent == 0:
        return f"I sent this letter in the words of {helper}, which I support."
    return (
        f"I wrote this letter with the help of {helper}; about {touch.percent}% of it is in "
        "my own words."
    )
