"""finserv: public financial services platform on Plone 6.2."""

from zope.i18nmessageid import MessageFactory

_ = MessageFactory("finserv")
