"""Catalog indexes of review: who the item waits for, its status, and when its step is due."""

from DateTime import DateTime
from finserv.core.review import _state
from finserv.core.review import current_step
from finserv.core.review.interfaces import IReviewable
from plone.indexer import indexer

import datetime


@indexer(IReviewable)
def review_status(obj):
    state = _state(obj)
    return state["status"] if state else "draft"


@indexer(IReviewable)
def review_pending_groups(obj):
    step = current_step(obj)
    return [step["group"]] if step else []


@indexer(IReviewable)
def review_due(obj):
    step = current_step(obj)
    if not step or not step["due"]:
        return None
    return DateTime(datetime.datetime.fromisoformat(step["due"]).timestamp())
