"""Attribution maps: which pixels a network's decision rests on. ``explain(model, images,
"smoothgrad")`` returns a map shaped like the images for any method in ``EXPLAINERS``;
``save_explanations`` draws several side by side; ``fullgrad_completeness`` checks FullGrad's
exact decomposition of the class score. Each method is one class in one file, on captum where
captum has the method."""

from datadistill.inspect.attribution import deconvnet as deconvnet
from datadistill.inspect.attribution import gradcam as gradcam
from datadistill.inspect.attribution import guided as guided
from datadistill.inspect.attribution import integrated as integrated
from datadistill.inspect.attribution import occlusion as occlusion
from datadistill.inspect.attribution import saliency as saliency
from datadistill.inspect.attribution import smoothgrad as smoothgrad
from datadistill.inspect.attribution.base import EXPLAINERS, Explainer, explain
from datadistill.inspect.attribution.figure import save_explanations
from datadistill.inspect.attribution.fullgrad import FullGradTerms, fullgrad_completeness

__all__ = [
    "EXPLAINERS",
    "Explainer",
    "FullGradTerms",
    "explain",
    "fullgrad_completeness",
    "save_explanations",
]
