"""`make demo`: .env is pointed at the stand-in Members API, and nothing else in it changes."""

from __future__ import annotations

from pathlib import Path

from tools.demo import STAND_IN_URL, point_env_file_at_stand_in


def test_demo_adds_the_stand_ins_url_to_env_when_it_has_none(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=abc\nMAIL_FROM=Free Tibet <c@example.org>\n")

    point_env_file_at_stand_in(env_file)

    assert env_file.read_text().splitlines() == [
        "SECRET_KEY=abc",
        "MAIL_FROM=Free Tibet <c@example.org>",
        f"PARLIAMENT_API_URL={STAND_IN_URL}",
    ]


def test_demo_replaces_another_members_api_url_in_env_when_one_is_set(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PARLIAMENT_API_URL=https://members-api.parliament.uk/api\nA=1\n")

    point_env_file_at_stand_in(env_file)

    assert env_file.read_text().splitlines() == ["A=1", f"PARLIAMENT_API_URL={STAND_IN_URL}"]


def test_demo_leaves_env_untouched_when_it_already_points_at_the_stand_in(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    original = f"PARLIAMENT_API_URL={STAND_IN_URL}\nA=1\n"
    env_file.write_text(original)

    point_env_file_at_stand_in(env_file)

    assert env_file.read_text() == original
