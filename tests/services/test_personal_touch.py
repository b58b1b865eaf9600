"""How much of a letter is the supporter's own: the measure on fixed letters, and its JS twin."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mp_mailer.services.personal_touch import (
    Band,
    PersonalTouch,
    band_of,
    measure,
    own_words_line,
)

CAMPAIGN_TEXT = """\
Dear Ms Abbott,

I am writing to you as a constituent in Hackney North to ask for your help. Chen Quanguo \
oversaw a security crackdown that placed Tibetans under constant watch.

The United States has already imposed sanctions on Chen. The UK has not, although our global \
human rights sanctions regime exists for cases like his.

I would welcome your reply setting out what you will do."""

OWN_SENTENCE = "My grandmother fled Lhasa in 1959 and never saw her brothers again."
REWRITTEN = """\
Hello Diane,

My family are Tibetan and we live on your patch. Last year my cousin vanished after posting a \
prayer online; nobody will tell us where he is held.

Please raise this with ministers and press them to act against the officials responsible. \
Write back to me when you can."""
# Shares two thirds of its words with our first sentence: a near-copy, not a sentence of their own.
NEARLY = "beg for your support"
SITE_JS = Path(__file__).parents[2] / "mp_mailer" / "static" / "site.js"


def test_measure_finds_nothing_of_their_own_when_the_letter_is_ours_unchanged() -> None:
    touch = measure(CAMPAIGN_TEXT, CAMPAIGN_TEXT)

    assert touch == PersonalTouch(own_sentences=0, own_word_share=0.0)


def test_measure_ignores_case_spacing_and_punctuation_when_comparing() -> None:
    rewrapped = CAMPAIGN_TEXT.upper().replace("\n\n", "\n").replace(", ", " ; ")

    assert measure(rewrapped, CAMPAIGN_TEXT) == PersonalTouch(0, 0.0)


def test_measure_counts_one_own_sentence_when_one_is_added() -> None:
    letter = CAMPAIGN_TEXT.replace("for your help.", f"for your help. {OWN_SENTENCE}")

    touch = measure(letter, CAMPAIGN_TEXT)

    assert touch.own_sentences == 1
    assert 0.1 < touch.own_word_share < 0.3


def test_measure_counts_no_own_sentence_when_a_word_or_two_of_ours_is_changed() -> None:
    letter = CAMPAIGN_TEXT.replace("constant watch", "constant, suffocating watch").replace(
        "I would welcome", "I would really welcome"
    )

    touch = measure(letter, CAMPAIGN_TEXT)

    assert touch.own_sentences == 0
    assert 0 < touch.own_word_share < 0.1


def test_measure_counts_no_own_sentence_when_a_sentence_of_ours_is_lightly_reworded() -> None:
    letter = CAMPAIGN_TEXT.replace("a constituent", "a voter").replace("ask for your help", NEARLY)

    assert measure(letter, CAMPAIGN_TEXT).own_sentences == 0


def test_measure_finds_every_sentence_their_own_when_the_letter_is_rewritten() -> None:
    touch = measure(REWRITTEN, CAMPAIGN_TEXT)

    assert touch.own_sentences == 4
    assert touch.own_word_share > 0.9


def test_measure_keeps_reordered_paragraphs_ours_when_nothing_else_changed() -> None:
    paragraphs = CAMPAIGN_TEXT.split("\n\n")
    reordered = "\n\n".join([paragraphs[0], paragraphs[2], paragraphs[1], paragraphs[3]])

    assert measure(reordered, CAMPAIGN_TEXT) == PersonalTouch(0, 0.0)


def test_measure_finds_it_all_their_own_when_there_is_no_campaign_text() -> None:
    touch = measure(REWRITTEN, "")

    assert (touch.own_sentences, touch.own_word_share) == (4, 1.0)


def test_measure_does_not_count_a_sentence_of_under_three_words_as_their_own() -> None:
    assert measure(f"{CAMPAIGN_TEXT}\n\nThanks, Jane.", CAMPAIGN_TEXT).own_sentences == 0


def test_describe_says_how_much_is_theirs_in_plain_words() -> None:
    assert PersonalTouch(2, 0.304).describe() == (
        "About 30% of this letter is in your own words (2 sentences of your own)."
    )
    assert (
        PersonalTouch(0, 0.0)
        .describe()
        .startswith("Your letter is the campaign's text as it stands.")
    )


@pytest.mark.parametrize(
    ("touch", "band"),
    [
        (PersonalTouch(0, 0.0), Band.COPIED),
        (PersonalTouch(0, 0.05), Band.FEW_WORDS),
        (PersonalTouch(1, 0.2), Band.OWN_SENTENCE),
        (PersonalTouch(0, 0.6), Band.MOSTLY_OWN),
        (PersonalTouch(4, 0.9), Band.MOSTLY_OWN),
    ],
)
def test_band_of_places_a_letter_by_its_measures(touch: PersonalTouch, band: Band) -> None:
    assert band_of(touch) == band


def test_own_words_line_names_the_organisation_campaign_and_share() -> None:
    line = own_words_line("Free Tibet", "Ban Chen Quanguo", PersonalTouch(1, 0.3))

    assert line == (
        "I wrote this letter with the help of Free Tibet's campaign “Ban Chen Quanguo”; "
        "about 30% of it is in my own words."
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run site.js")
def test_site_js_describes_letters_exactly_as_the_server_does() -> None:
    letters = [
        CAMPAIGN_TEXT,
        CAMPAIGN_TEXT.replace("for your help.", f"for your help. {OWN_SENTENCE}"),
        CAMPAIGN_TEXT.replace("constant watch", "constant, suffocating watch"),
        REWRITTEN,
        CAMPAIGN_TEXT.replace("a constituent", "a voter").replace("ask for your help", NEARLY),
        f"{CAMPAIGN_TEXT}\n\n{REWRITTEN}",
        "Tibet’s monks don't forget. Ça va? Ünïcode wörds — ещё раз… 2026!",
    ]
    script = (
        f"const {{ describeOwnWords }} = require({json.dumps(str(SITE_JS))});"
        f"const cases = {json.dumps(letters)}; const ours = {json.dumps(CAMPAIGN_TEXT)};"
        "console.log(JSON.stringify(cases.map((letter) => describeOwnWords(letter, ours))));"
    )
    result = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )

    assert json.loads(result.stdout) == [
        measure(letter, CAMPAIGN_TEXT).describe() for letter in letters
    ]
