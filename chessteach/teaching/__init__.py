"""Teaching: explanations of concepts and moments (the grounded template explainer; LLM teachers later)."""

from chessteach.teaching.template import MomentExplainer, TemplateExplainer

__all__ = ["MomentExplainer", "TemplateExplainer"]
