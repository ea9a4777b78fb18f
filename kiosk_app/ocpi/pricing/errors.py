"""Errors raised for OCPI pricing input that cannot be priced."""

from __future__ import annotations


class PricingInputError(ValueError):
    """An OCPI object that is not valid for pricing.

    The message is one line and starts with the JSON path of the offending field, for example
    ``elements[2].price_components[0].price: negative price -0.1``.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class TariffError(PricingInputError):
    """A Tariff that breaks the OCPI rules (negative price, unknown dimension, bad time...)."""


class CdrError(PricingInputError):
    """A CDR or Session that cannot be priced (missing times, bad volumes, wrong currency...)."""
