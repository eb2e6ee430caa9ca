"""How a user's mistake reaches the terminal: one line on stderr and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from crawler.settings_check import SettingError
from storage.db import DatabaseError

__all__ = ["BadValue", "handle_user_errors"]


class BadValue(click.ClickException):
    """A value the user gave that cannot be used: one line on stderr and exit status 2."""

    exit_code = 2


def handle_user_errors(command: Callable) -> Callable:
    """Database and input problems become one line on stderr, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except SettingError as exc:
            raise BadValue(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper
