"""V-SDC errors: each carries the exact response body of the contract (the V-SDC has its own envelope).

::

    VsdcRejected            HTTP 400 with a contract body
    VsdcUnauthorized        HTTP 401: no, unknown or revoked client certificate (proxy mode / revocation)
"""

from __future__ import annotations

from typing import Any


class VsdcRejected(Exception):
    """An invoice refused with HTTP 400; ``body`` is the exact response body."""

    status = 400

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message") or (body.get("errors") or ["rejected"])[0])
        self.body = body

    @classmethod
    def invalid(cls, problems: list[str]) -> VsdcRejected:
        """The generic form: the first problem as the message, every problem in ``errors``."""
        return cls({"success": False, "status": None, "message": problems[0], "errors": list(problems)})

    @classmethod
    def unknown_tin(cls, tin: str) -> VsdcRejected:
        return cls({"success": False, "status": None, "message": f"TIN <{tin}> does not exist.", "errors": []})

    @classmethod
    def unknown_mcr(cls, mcr: str) -> VsdcRejected:
        return cls({"success": False, "message": None, "errors": [f"MCR <{mcr}> does not exist."]})

    @classmethod
    def rate_mismatch(cls, expected: str, given: str) -> VsdcRejected:
        message = f"Tax Rate expected <{expected}> but was <{given}>"
        return cls({"success": False, "status": None, "message": message, "errors": []})

    @classmethod
    def combination(cls, mcr: str, tin: str) -> VsdcRejected:
        message = f"There was an error with your MCR/TIN  ({mcr}/{tin}) combination. Please try again."
        return cls({"success": False, "status": None, "message": message, "errors": [message]})


class VsdcUnauthorized(Exception):
    """The request carries no acceptable client certificate."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {"success": False, "status": None, "message": message, "errors": [message]}
