"""Notices to customers and support: what is worth telling, how it reads, how it is mailed.

:mod:`.facts` finds what happened (from the activity log and the queues, never from inside a
sync), :mod:`.compose` turns it into plain-text and HTML mail from templates, :mod:`.smtp`
sends it. Storing and sending are actions (:mod:`connector.actions.notices`), run by the
daemon's notices job, so a slow or broken mail server never holds up a sync.
"""
