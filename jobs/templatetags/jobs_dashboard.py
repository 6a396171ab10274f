from django import template

from jobs.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/jobs/dashboard.html", takes_context=True)
def jobs_dashboard(context):
    user = context["request"].user
    if not user.has_perm("jobs.view_jobrun"):
        return {"allowed": False}
    return {"allowed": True, **dashboard()}
