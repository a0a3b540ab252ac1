def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    from .services import unread_count

    return {"unread_notifications": unread_count(user)}


def delayed_alerts(request):
    """The school's principal and office: a banner while an alert about their school has
    waited longer than the limit (a worker or the SMS gateway is down)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from schools.models import MANAGER_ROLES
    from schools.selectors import school_ids_for

    from .health import alert_backlog

    schools = school_ids_for(user, MANAGER_ROLES)
    if not schools:
        return {}
    backlog = alert_backlog(schools)
    return {"delayed_alerts": backlog} if backlog["late"] else {}
