"""Classic UI of review: ``@@review`` on an item, ``@@review-pending``, ``@@review-chains``."""

from AccessControl import Unauthorized
from finserv import _
from finserv.core import review
from finserv.core.review.chains import MODE_TITLES
from finserv.core.review.chains import RETURN_TITLES
from finserv.core.review.chains import ReviewError
from finserv.core.review.services import perform
from plone import api
from plone.protect import CheckAuthenticator
from Products.Five.browser import BrowserView

import transaction

STATUS_CLASSES = {
    "draft": "secondary", "in_review": "primary", "returned": "warning",
    "approved": "success", "rejected": "danger", "withdrawn": "secondary",
}


class ReviewView(BrowserView):
    """The item's review: status, current step, history, and the buttons the user may press."""

    error = None

    def __call__(self):
        if self.request.method == "POST":
            CheckAuthenticator(self.request)
            form = self.request.form
            try:
                perform(self.context, {k: form.get(k) for k in ("action", "comment", "chain", "ticket")})
            except (ReviewError, Unauthorized) as exc:
                transaction.doom()
                self.error = review.t(exc.message) if isinstance(exc, ReviewError) else str(exc)
                self.request.response.setStatus(exc.status if isinstance(exc, ReviewError) else 403)
            else:
                api.portal.show_message(review.t(_("review_done", default="操作已完成。")), request=self.request)
                if api.user.has_permission("View", obj=self.context):
                    self.request.response.redirect(self.context.absolute_url() + "/@@review")
                else:  # the item has left the reviewer's step: back to their queue
                    self.request.response.redirect(api.portal.get().absolute_url() + "/@@review-pending")
                return ""
        self.info = review.info(self.context)
        return self.index()

    def status_class(self):
        return "bg-" + STATUS_CLASSES.get(self.info["status"], "secondary")

    def chains(self):
        return [{"id": c["id"], "title": c["title"]} for c in review.list_chains()]


class ReviewPendingView(BrowserView):
    """The current user's queue."""

    def items(self):
        result = []
        for brain in review.pending_for():
            obj = brain.getObject()
            step = review.current_step(obj) or {}
            overdue = bool(step.get("due")) and step["due"] < review._utcnow().isoformat()
            result.append({
                "url": brain.getURL(), "title": brain.Title, "applicant": brain.Creator,
                "step": step.get("title", ""), "mode": review.t(review.MODE_SHORT.get(step.get("mode"), review.MODE_SHORT["any"])),
                "due": review.local_time(step.get("due")), "overdue": overdue,
            })
        return result


class ReviewChainsView(BrowserView):
    """Site managers list, create and edit review chains (every edit is a new version)."""

    error = None
    saved = None
    BLANK_ROWS = 2

    def __call__(self):
        form = self.request.form
        self.editing = review.get_chain(form.get("edit")) if form.get("edit") else None
        if self.request.method == "POST":
            CheckAuthenticator(self.request)
            titles = form.get("step_title") or []
            titles = [titles] if isinstance(titles, str) else titles

            def column(name):
                values = form.get(name) or []
                values = [values] if isinstance(values, str) else values
                return list(values) + [""] * (len(titles) - len(values))

            groups, modes, deadlines, returns = (column(n) for n in ("step_group", "step_mode", "step_deadline", "step_return"))
            steps = [
                {"title": title, "group": groups[i], "mode": modes[i] or "any", "deadline_days": deadlines[i], "return_to": returns[i] or "applicant"}
                for i, title in enumerate(titles)
                if (title or "").strip()
            ]
            data = {"id": form.get("chain_id"), "title": form.get("title"), "steps": steps}
            try:
                chain = review.save_chain(data, user_id=api.user.get_current().getId())
            except ReviewError as exc:
                transaction.doom()
                self.error = review.t(exc.message)
                self.editing = dict(data, version=None)
                self.request.response.setStatus(400)
            else:
                from finserv.core.audit import record

                record("review.chain_saved", target=f"review-chain:{chain['id']}", details={"version": chain["version"]})
                self.saved = review.t(_("review_chain_saved", default="已保存流程“${title}”（第 ${version} 版）。", mapping={"title": chain["title"], "version": chain["version"]}))
                self.editing = None
        return self.index()

    def chains(self):
        return sorted(review.list_chains(), key=lambda c: c["id"])

    def rows(self):
        steps = list((self.editing or {}).get("steps") or [])
        blank = {"title": "", "group": "", "mode": "any", "deadline_days": None, "return_to": "applicant"}
        return steps + [dict(blank) for _ in range(self.BLANK_ROWS)]

    def groups(self):
        return sorted(({"id": g.getId(), "title": g.getProperty("title") or g.getId()} for g in api.group.get_groups()), key=lambda g: g["id"])

    def modes(self):
        return [{"id": k, "title": review.t(v)} for k, v in MODE_TITLES.items()]

    def returns(self):
        return [{"id": k, "title": review.t(v)} for k, v in RETURN_TITLES.items()]

    def step_summary(self, step):
        mode = review.t(review.MODE_SHORT[step["mode"]])
        if step.get("deadline_days"):
            deadline = review.t(_("review_deadline_days", default="，${days} 天", mapping={"days": step["deadline_days"]}))
        else:
            deadline = ""
        return f"{step['title']}（{step['group']}，{mode}{deadline}）"
