"""Recall pages: the board, the open form, the incident with its tabs and actions, and
the public notice."""

from recalls.views.actions import action
from recalls.views.board import board, recall_open
from recalls.views.detail import detail
from recalls.views.public import public_notice

__all__ = ["action", "board", "detail", "public_notice", "recall_open"]
