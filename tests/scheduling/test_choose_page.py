"""The guardian's choice page: each slot a card of the activities the child may take (buttons
to tap in order, with the rank selects the form posts underneath); the selects' ranking is
saved best first, a repeated activity is refused on its card, and a page shown again after
an error keeps what the guardian entered."""

import re

import pytest

from scheduling.models import Choice
from tests.scheduling.conftest import afternoon, close_choices, item_of

pytestmark = pytest.mark.django_db


def _url(menu, student) -> str:
    return f"/scheduling/menus/{menu.pk}/choose/{student.pk}/"


def _selected(page: str, name: str) -> str | None:
    """The value of the option selected in the select named `name`, if any."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)" selected>', select)
    return chosen.group(1) if chosen else None


def test_each_slot_card_offers_the_activities_of_the_childs_grade_as_buttons(
        cast, published, activities, client):
    client.force_login(cast.parent)
    page = client.get(_url(published, cast.child)).content.decode()
    monday = afternoon(cast.term, 1)
    card = page.split(f'id="slot-{monday.pk}"', 1)[1].split("</fieldset>", 1)[0]
    buttons = set(re.findall(r'<button type="button" class="pick" data-item="(\d+)"', card))
    assert buttons == {str(item_of(published, a, 1).pk)
                       for a in (activities.reading, activities.sports, activities.arts)}
    assert str(item_of(published, activities.crafts, 1).pk) not in buttons  # grade 1 only
    for rank in (1, 2, 3):
        assert f'name="s{monday.pk}-rank{rank}"' in card
    assert "js/choose.js" in page


def test_the_ranking_is_saved_best_first_and_an_empty_rank_closes_up(
        cast, published, activities, client):
    client.force_login(cast.parent)
    monday, tuesday = afternoon(cast.term, 1), afternoon(cast.term, 2)
    arts, sports = item_of(published, activities.arts, 1), item_of(published, activities.sports, 1)
    response = client.post(_url(published, cast.child), {
        f"s{monday.pk}-rank1": arts.pk, f"s{monday.pk}-rank2": "",
        f"s{monday.pk}-rank3": sports.pk, f"s{tuesday.pk}-rank1": ""})
    assert response.status_code == 302
    assert list(Choice.objects.filter(student=cast.child, slot=monday).order_by("rank")
                .values_list("item_id", "rank")) == [(arts.pk, 1), (sports.pk, 2)]
    assert not Choice.objects.filter(student=cast.child, slot=tuesday).exists()

    # Shown again, the saved ranking fills the selects the buttons start from.
    page = client.get(_url(published, cast.child)).content.decode()
    assert _selected(page, f"s{monday.pk}-rank1") == str(arts.pk)
    assert _selected(page, f"s{monday.pk}-rank2") == str(sports.pk)
    assert not _selected(page, f"s{monday.pk}-rank3")


def test_a_repeated_activity_is_refused_on_its_card_and_every_entry_stays(
        cast, published, activities, client):
    client.force_login(cast.parent)
    monday, tuesday = afternoon(cast.term, 1), afternoon(cast.term, 2)
    arts = item_of(published, activities.arts, 1)
    reading = item_of(published, activities.reading, 2)
    response = client.post(_url(published, cast.child), {
        f"s{monday.pk}-rank1": arts.pk, f"s{monday.pk}-rank2": arts.pk,
        f"s{tuesday.pk}-rank1": reading.pk})
    assert response.status_code == 200
    page = response.content.decode()
    card = page.split(f'id="slot-{monday.pk}"', 1)[1].split("</fieldset>", 1)[0]
    assert "同一活动不能重复填报" in card
    assert _selected(page, f"s{monday.pk}-rank1") == str(arts.pk)
    assert _selected(page, f"s{monday.pk}-rank2") == str(arts.pk)
    assert _selected(page, f"s{tuesday.pk}-rank1") == str(reading.pk)
    assert not Choice.objects.filter(student=cast.child).exists()


def test_an_activity_of_another_grade_is_refused_and_the_other_slots_entries_stay(
        cast, published, activities, client):
    client.force_login(cast.parent)
    monday, tuesday = afternoon(cast.term, 1), afternoon(cast.term, 2)
    crafts = item_of(published, activities.crafts, 1)
    sports = item_of(published, activities.sports, 2)
    response = client.post(_url(published, cast.child), {
        f"s{monday.pk}-rank1": crafts.pk, f"s{tuesday.pk}-rank1": sports.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page.split(f'id="slot-{monday.pk}"', 1)[1]
    assert _selected(page, f"s{tuesday.pk}-rank1") == str(sports.pk)
    assert not Choice.objects.filter(student=cast.child).exists()


def test_after_the_deadline_the_page_lists_the_ranking_without_controls(
        cast, published, activities, client):
    client.force_login(cast.parent)
    monday = afternoon(cast.term, 1)
    arts, sports = item_of(published, activities.arts, 1), item_of(published, activities.sports, 1)
    client.post(_url(published, cast.child), {f"s{monday.pk}-rank1": sports.pk,
                                              f"s{monday.pk}-rank2": arts.pk})
    close_choices(published)
    page = client.get(_url(published, cast.child)).content.decode()
    card = page.split(f'id="slot-{monday.pk}"', 1)[1].split("</fieldset>", 1)[0]
    assert re.findall(r"<li>(.*?)</li>", card) == ["篮球", "国画"]
    assert "<select" not in card and 'class="pick"' not in card
    assert 'id="save-choices"' not in page
