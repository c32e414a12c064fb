"""Pure logic of the standards-work pages: who the person is for a project, times, form values,
and the pages' messages in both languages."""

from __future__ import annotations

from portal.pages import projects
from portal.sessions import User


def user(*roles: str, org: str | None = None) -> User:
    return User("sub", "name@example.com", "Name", frozenset(roles), org)


PROJECT = {
    "working_group": [
        {"org_id": "org-chair", "role": "chair"},
        {"org_id": "org-editor", "role": "editor"},
        {"org_id": "org-part", "role": "participant"},
    ]
}


def test_actors_follow_the_roles_and_the_working_group() -> None:
    assert projects.actors_of(user("council"), PROJECT) == {"council"}
    assert projects.actors_of(user("secretariat", "council"), PROJECT) == {"secretariat", "council"}
    assert projects.actors_of(user("member_admin", org="org-chair"), PROJECT) == {"chair"}
    assert projects.actors_of(user("member_staff", org="org-editor"), PROJECT) == {"editor"}
    assert projects.actors_of(user("member_admin", org="org-part"), PROJECT) == set()
    # The organisation alone is not enough: the person must be one of its member users.
    assert projects.actors_of(user("licensee", org="org-chair"), PROJECT) == set()
    assert projects.actors_of(user("member_admin", org="org-chair"), {"working_group": []}) == set()


def test_times_and_form_values() -> None:
    assert projects.when("2026-11-27T10:05:09.123Z") == "2026-11-27 10:05 UTC"
    assert projects.when("2026-11-27T18:05:00+08:00", with_time=False) == "2026-11-27"
    assert projects.when("2026-11-27") == "2026-11-27"
    assert projects.when(None) == "—"
    assert projects.is_past("2000-01-01T00:00:00Z") and not projects.is_past("2199-01-01T00:00:00Z")
    assert projects.moment_of("2026-11-27T10:05:09") == "2026-11-27T10:05:09+00:00"
    assert projects.number_of("3") == 3
    assert projects.number_of("3.5") == "3.5"  # left for the API to name the field
    assert projects.number_of("") == ""


def test_every_stage_action_and_choice_has_both_languages() -> None:
    catalogue = projects.MESSAGES
    keys = [f"stage.{s}" for s in projects.STAGES]
    keys += [f"role.{r}" for r in projects.GROUP_ROLES]
    keys += [f"disposition.{d}" for d in projects.DISPOSITIONS]
    keys += [f"position.{p}" for p in projects.POSITIONS]
    keys += [f"commitment.{c}" for c in projects.COMMITMENTS]
    keys += [f"action.{a}" for a in projects.ACTION_FIELDS]
    keys += [f"{name}" for fields in projects.ACTION_FIELDS.values() for name in fields]
    missing = [k for k in keys if k not in catalogue]
    assert missing == []
    assert all(catalogue.get("zh", k) != catalogue.get("en", k) for k in keys if k.startswith("stage."))


def test_the_pages_know_every_stage_and_action_of_the_standards_service() -> None:
    from standards.domain.lifecycle import Action, Stage

    assert set(projects.STAGES) == {s.value for s in Stage}
    missing = [f"action.{a.value}" for a in Action if f"action.{a.value}" not in projects.MESSAGES]
    assert missing == []


def test_opaque_subjects_are_not_shown_as_names() -> None:
    assert projects.person("4140d273-91c0-462a-bdc7-2e85fe6170b3") is None
    assert projects.person("chen.li@example.com") == "chen.li@example.com"
    assert projects.person(None) is None
