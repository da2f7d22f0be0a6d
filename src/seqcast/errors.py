"""The one base class of seqcast's known, expected failures."""


class SeqcastError(Exception):
    """A failure the user can fix: bad data, bad parameters, no champion, a server down.

    Its message says what is wrong, where (file, series, column, parameter, model, version)
    and what to do; the command line prints it without a traceback.
    """


class ModelConfigError(SeqcastError, ValueError):
    """A model family's or its training's parameters do not fit (family, kernel, mode)."""
