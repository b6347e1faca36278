"""Data generators: pure functions of (config, numpy Generator) -> arrays."""

from raflab.data.raf import RAFSample, fact_mask, rule_labels, sample_raf, sample_rule_test_set

__all__ = ["RAFSample", "fact_mask", "rule_labels", "sample_raf", "sample_rule_test_set"]
