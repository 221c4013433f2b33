"""Posting a comment on any object's timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from coordination import timeline
from coordination.forms import CommentForm
from coordination.selectors.activity import timeline_for
from coordination.services.activity import comment_add


@require_POST
@login_required
def comment(request, label, pk):
    target = timeline.find(request.user, label, pk)
    if target is None:
        raise Http404("Nothing to comment on here, or you may not see it.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_add(target=target, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error("body", exc.message_dict.get("body", exc.messages))
        else:
            form = CommentForm()
    if request.htmx:
        context = {"events": timeline_for(target), "timeline_target": target, "comment_form": form}
        return render(request, "coordination/_timeline.html", context)
    if form.errors:
        messages.error(request, " ".join(form.errors["body"]))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "home"
    return redirect(back)
