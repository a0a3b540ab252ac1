"""Staff are chosen by full name; namesakes are told apart."""

import pytest

from schools.fields import StaffChoiceField
from schools.models import Staff
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_namesakes_are_told_apart_and_providers_named(cast):
    with_account = f.StaffFactory(school=cast.school, name="王静怡",
                                  user=f.UserFactory(username="wjy1"))
    without = f.StaffFactory(school=cast.school, name="王静怡", user=None)
    provider = f.StaffFactory(school=cast.school, name="孙浩然", user=None,
                              kind=Staff.Kind.PROVIDER, provider_name="青少年素质教育中心")
    field = StaffChoiceField(queryset=Staff.objects.filter(
        pk__in=[with_account.pk, without.pk, provider.pk]).order_by("pk"))
    labels = [label for _value, label in field.choices][1:]
    assert labels == ["王静怡 · 账号 wjy1", "王静怡 · 本校教师", "孙浩然（青少年素质教育中心）"]
    assert len(set(labels)) == 3
