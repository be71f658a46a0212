"""SCARF (Bahri et al., 2022): contrastive learning by random feature corruption, for tables."""

from ..losses import InfoNCELoss
from ._contract import Objective
from ._views import TWO_VIEWS, two_view_model


class SCARF(Objective):
    """Clean row vs. a copy with ``corruption_rate`` of its features drawn from their marginals; N x N InfoNCE."""

    name = "scarf"
    family = "two_view"
    data = ("tabular",)
    outputs = TWO_VIEWS
    divergence_hint = "A higher temperature also helps."

    def resolved(self, est):
        return {"temperature_": 1.0 if est.temperature == "auto" else est.temperature}

    def build(self, est, X):
        return two_view_model(est, X), self.criterion(InfoNCELoss(self.resolved(est)["temperature_"]))
