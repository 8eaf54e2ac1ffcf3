"""Layer 1, the vocabulary: token states and families, outcomes, verdicts, the observation of one answer,
the judgement rules and the error tree. Imports nothing else from ``catalog``."""
