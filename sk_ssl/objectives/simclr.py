"""SimCLR (Chen et al., 2020): two augmented views of each image, NT-Xent over the 2N views."""

from ..losses import NTXentLoss
from ._contract import Objective
from ._views import TWO_VIEWS, two_view_model


class SimCLR(Objective):
    """Two augmented views (crop, colour jitter, ...); each view's positive is the other, 2N - 2 negatives."""

    name = "simclr"
    family = "two_view"
    data = ("image",)
    outputs = TWO_VIEWS
    divergence_hint = "A higher temperature also helps."

    def resolved(self, est):
        return {"temperature_": 0.5 if est.temperature == "auto" else est.temperature}

    def build(self, est, X):
        return two_view_model(est, X), self.criterion(NTXentLoss(self.resolved(est)["temperature_"]))
