"""seq/cross_modal"""
