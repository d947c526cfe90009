"""Teaching: explanations of concepts and moments (the grounded template explainer or a teacher model), and their fact-checks."""

from chessteach.teaching.explain import (
    NoExampleError,
    example_facts,
    explain_concept,
    explanation_markdown,
    pick_example,
)
from chessteach.teaching.factcheck import Claim, FactCheck, check_explanation, check_text
from chessteach.teaching.sections import Explanation
from chessteach.teaching.template import MomentExplainer, TemplateExplainer

__all__ = [
    "Claim",
    "Explanation",
    "FactCheck",
    "MomentExplainer",
    "NoExampleError",
    "TemplateExplainer",
    "check_explanation",
    "check_text",
    "example_facts",
    "explain_concept",
    "explanation_markdown",
    "pick_example",
]
