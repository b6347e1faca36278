"""Rote vs rule learning in agents: learning by teaching (``teaching``) and schema linking (``schema``)."""
