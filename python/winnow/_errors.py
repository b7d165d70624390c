"""Exceptions: one class per runtime status code, all under WinnowError.

Each class also derives from the built-in exception a Python caller would
expect (a wrong shape is a ValueError, a missing function a LookupError), so
``except ValueError`` keeps working around Winnow calls.
"""


class WinnowError(Exception):
    """Base class of every error the Winnow runtime or compiler reports."""

    #: The runtime's status code name ("INVALID_ARGUMENT", ...).
    code = "UNKNOWN"


class InvalidArgumentError(WinnowError, ValueError):
    """A call, tensor or option does not match what was expected."""

    code = "INVALID_ARGUMENT"


class NotFoundError(WinnowError, LookupError):
    """A file, function or device that does not exist."""

    code = "NOT_FOUND"


class FailedPreconditionError(WinnowError, RuntimeError):
    """The object cannot do this (e.g. no target for this device)."""

    code = "FAILED_PRECONDITION"


class OutOfRangeError(WinnowError, IndexError):
    code = "OUT_OF_RANGE"


class UnavailableError(WinnowError, RuntimeError):
    """A resource cannot be used now (no CUDA driver, no GPU)."""

    code = "UNAVAILABLE"


class UnimplementedError(WinnowError, NotImplementedError):
    code = "UNIMPLEMENTED"


class DataLossError(WinnowError, ValueError):
    """An artifact is truncated or corrupt."""

    code = "DATA_LOSS"


class OutOfMemoryError(WinnowError, MemoryError):
    code = "OUT_OF_MEMORY"


class InternalError(WinnowError, RuntimeError):
    code = "INTERNAL"


class CompileError(WinnowError, ValueError):
    """winnow-compile rejected a program; the message carries its
    diagnostics with source locations."""

    code = "COMPILE_ERROR"

    def __init__(self, message, diagnostics=""):
        super().__init__(message)
        #: The compiler's diagnostics, as it printed them.
        self.diagnostics = diagnostics


# The runtime's winnow_status_code_t values (winnow_runtime.h).
BY_STATUS_CODE = {
    1: InvalidArgumentError,
    2: NotFoundError,
    3: FailedPreconditionError,
    4: OutOfRangeError,
    5: UnavailableError,
    6: UnimplementedError,
    7: DataLossError,
    8: OutOfMemoryError,
    9: InternalError,
}
