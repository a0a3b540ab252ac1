"""A swap of a placement with itself: refused as bad input, never a server error (API.md:
"Never 500 on any input")."""

import pytest

from scheduling.models import Placement
from schools.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_swapping_a_placement_with_itself_is_refused(cast, allocated, api):
    placement = Placement.objects.get(student=cast.child, slot__weekday=1)
    response = api(cast.principal).post("/api/v1/placements/swap/", {
        "first": placement.pk, "second": placement.pk}, format="json")
    assert response.status_code == 400
    assert Placement.objects.get(pk=placement.pk).source == Placement.Source.ALLOCATION
    assert not AuditEntry.objects.filter(action="scheduling.placement.swapped").exists()
