"""The behavior marker and the event modules subscribe to."""

from zope.interface import Attribute
from zope.interface import implementer
from zope.interface import Interface
from zope.interface.interfaces import IObjectEvent
from zope.interface.interfaces import ObjectEvent


class IReviewable(Interface):
    """Marker of the ``finserv.review`` behavior: the item can go through a review chain."""


class IReviewDecisionEvent(IObjectEvent):
    decision = Attribute("submit, approve, return, reject or withdraw")
    step = Attribute("the step acted on: its chain definition plus 'index' (None before the first step)")
    status = Attribute("the item's review status after the decision")
    comment = Attribute("the comment given")
    actor = Attribute("user id of whoever decided")


@implementer(IReviewDecisionEvent)
class ReviewDecisionEvent(ObjectEvent):
    def __init__(self, obj, decision, step, status="", comment="", actor=""):
        super().__init__(obj)
        self.decision = decision
        self.step = step
        self.status = status
        self.comment = comment
        self.actor = actor
